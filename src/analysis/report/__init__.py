"""The report layer: from the fact tables to the sentences, tables, charts and maps of a report.

One concern a module, imported in this order (a module imports only those above it):

- `lang`        the report language, validated once (`check_lang` → `Lang`), with its words
                (`words/<lang>.toml`: templates, labels, number formats, page and map words)
- `values`      `Fact` (a value with unit, qualifier and source sentence) and `is_missing`
- `formatting`  numbers, amounts, counts, ranks, months, qualifiers and lists for a `Lang`
- `labels`      province names and glossary labels for a `Lang`
- `citations`   provenance: a row's `Citation`, the "Source: …" lines of charts and reports
- `markup`      HTML pieces (headings, source lines, tables) and their plain-text form
- `render`      the Jinja templates and their filters, source notes
- `display`     showing HTML in a notebook, the report title and sections, the report CSS
- `views`       data views of the fact tables (DataFrames and Facts; nothing of the prose)
- `audit`       data views of the corpus step for the source audit
- `contexts`    what each report's templates are given, computed from the views' frames
- `tables`      the printed tables of the reports, from the views' frames
- `style`       the house style of charts (fonts, palette, byte-stable saving, captions)
- `map_geometry`, `map_labels`, `maps`   province choropleths (`maps.province_map`)
- `chart_kit`, `charts`, `timeline`      the report charts, each drawn from a frame

Nothing heavy is imported here: each module imports pandas, matplotlib or IPython inside the
functions that need them.
"""
