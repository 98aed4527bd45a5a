"""The fact base: every figure of the source as tidy, validated tables with provenance.

Modules: `source` (the adapter to the clean corpus), `mentions` (numeric mentions),
`rules` (declarative extraction rules), `coverage` (used or not-a-fact), `checks`
(cross-checks of the document's arithmetic), `tables` (the table contract), `schemas`
(pandera), `export` (CSV, Frictionless data package, Excel), `pipeline` (`analysis facts`)
and `api` (`load`, `list_tables`, `cite`). Nothing heavy is imported here.
"""
