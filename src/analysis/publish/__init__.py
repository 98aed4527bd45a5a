"""The build engine behind `analysis build` (`make reports`): notebooks in, reports out.

The package is `publish`, not `build`, although the command keeps its name: a folder called
`build/` is what setuptools and most tools treat as disposable output (ignore templates,
pytest's `norecursedirs`), so the engine's source would be skipped by whatever skips those.

One module per job of the pipeline, after papermill's layout:

- `spec`       reads and validates `reports.toml` and each notebook's parameters cell
- `jobs`       expands the parameter grids into jobs with stable, ASCII-safe ids
- `cache`      hashes each job's inputs and decides what is up to date
- `execute`    runs one notebook through papermill in a worker (readable parameters,
               volatile metadata stripped, kernel shut down at once)
- `zygote`     forks each kernel from a template process that imported the notebooks'
               modules once (and what they import lazily, listed in their `WARM_IMPORTS`)
- `export`     renders HTML (no code, embedded figures and font subset) and A4 PDF (WeasyPrint)
- `executors`  runs jobs in local worker processes or on a Dask cluster
- `manifest`, `index`, `progress`   the run record, `reports/index.html` and the console
- `engine`     ties them together; `cli` is the argument parser of `analysis build`
- `preview`    `analysis preview`: serves the reports folder on loopback, rebuilds what each
               saved edit touches on warm workers (`executors.WarmExecutor`) and reloads the page

`import analysis.publish` is cheap: papermill, nbconvert and WeasyPrint are imported only in the
worker processes that execute and export notebooks.

Outputs (all under reports/, written atomically; the same inputs give the same bytes):
`notebooks/<job>.ipynb` (executed, kept with its error when a job fails), `html/<job>.html`,
`pdf/<job>.pdf`, `figures/<name>.png|svg` (the charts each job saved, SVG too where its report
says `figures = ["png", "svg"]`; none are kept from a job
that fails), `logs/<job>.log`, `index.html`, `manifest.json`, and `.build/` (the cache
records). Everything goes into the reports folder of the build (`--reports-dir`), the charts
too: every kernel saves them into a staging folder of its own (`$ANALYSIS_FIGURES_DIR`), and
they come back with the job's result (`execute`), so the manifest lists each job's figures.
Committed notebooks are refreshed with `analysis build --update-notebooks` and checked with
`--update-notebooks --check` (which writes nothing at all; the charts they save are not kept).

What the engine promises about the reports folder (`engine`):

- it removes only what it made: its temporary files are named `.analysis-tmp-*.tmp` and are
  swept only in its own subfolders, and a chart or report is removed or moved only while it
  still has the sha256 that the engine's record of it lists;
- a reports folder that is, contains or lies inside an input (the repository root,
  `notebooks/`, `src/`, `data/`, any `inputs` glob, a report's notebook folder) is refused
  before any work, and so is one that is a file or cannot be written (exit 2);
- one build at a time: `.build/lock` (a POSIX record lock, released by the kernel when the
  holder dies); a second build names the holder's pid and exits 2, or waits with `--wait`;
- a job's files are staged under temporary names and renamed into place, its record last;
  Ctrl-C and SIGTERM wait for the renames, and a full disk stops the build with its manifest
  describing what is on disk;
- a job that fails moves its previous success's HTML, PDF and charts to `failed/<job>/`, so
  nothing stale stays where readers look; the index marks it failed;
- workers, their template processes and kernels die with the build (a parent-death signal,
  and a watchdog thread where there is none); a kernel that dies mid-notebook, or a cell that
  runs longer than `--cell-timeout` (300 s by default), fails only its job, whose partial
  executed notebook is kept.

The report list: `reports.toml` at the repository root
-------------------------------------------------------
::

    [defaults]                      # optional, applies to every report
    formats = ["html", "pdf", "docx"]   # any of "html", "pdf", "docx" (Word, made with pandoc
                                    # from the HTML); the executed notebook is always kept
    kernel = "analysis"             # Jupyter kernel name
    inputs = ["data/raw/**", "data/processed/**"]   # files (globs, relative to the root)
                                    # whose content decides whether a report is up to date
    figures = ["png"]               # the files each saved chart is written as: "png", and
                                    # "svg" (for slides) only where a report declares it

    [site]                          # optional: the index page
    title = { zh = "报告", en = "Reports" }

    [source]                        # the citation printed in every title block and on the index
    articles = ["a1", "a2"]         # composed from data/raw/sources.toml (institute, authors,
                                    # title; English labels from the glossary), or as text:
                                    # zh = "资料来源：……"  en = "Source: ..."

    [reports.cluster_policy]        # the report name: lower-case ASCII, digits and "_"
    notebook = "notebooks/cluster_policy.ipynb"    # relative to the directory of reports.toml
    title = { zh = "……", en = "..." }   # optional; "{param}" is replaced by the parameter's label;
                                    # by default the notebook's first level-1 heading is the title
    params = { lang = ["zh", "en"] }    # the parameter grid: every combination is one job
    description = { zh = "……", en = "..." }   # optional: the index's one line about it
    data = ["national_clusters_by_province"]  # optional: tables of data/processed/ it shows;
                                    # copied (CSV, and the workbook) into reports/data/, linked

    [reports.province_profile]
    notebook = "notebooks/province_profile.ipynb"
    params = { lang = ["zh", "en"], province = "@mainland" }
    heading = { zh = "……", en = "..." }   # optional: what the index calls a report whose
                                    # title varies with its grid (else its titles, or its name)

A grid value is a list (one job per value), a single value (passed to every job, not part of
the job id) or "@name", a named set: "@mainland" is the 31 mainland provinces
(`analysis.provinces.mainland()`, values are the short Chinese names, aliases given on the
command line are resolved with `analysis.provinces.resolve`).

    [notebooks]                     # optional: notebooks that are not reports (no HTML, PDF)
    extra = ["notebooks/explore.ipynb"]   # run and committed with the reports' notebooks by
                                    # `analysis build --update-notebooks`, default parameters

Every grid parameter must be assigned in the notebook's cell tagged `parameters`, with a value
of the same type; an annotation `lang: Literal["zh", "en"] = "zh"` also restricts its values.
Optional per report: `formats`, `kernel`, `inputs` (replace the defaults), `source` (replaces
the citation; its articles give the title block its publisher and what is known of the dates),
`description`, `heading`, `data`. Beside the reports the build writes the methodology note
(`methodology.<lang>.html`) and the data copies, listed under `site` in the manifest
(`analysis.publish.site`). Unknown keys, reports, parameters and values are errors that name
the file and the entry, reported before any kernel starts.
"""

from __future__ import annotations

# "2": job records list the figures each job saved; records of version 1 do not (their charts
# went to <repo>/reports/figures/ whatever the reports folder), so those jobs are rebuilt.
ENGINE_VERSION = "2"
