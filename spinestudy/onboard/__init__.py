"""`spinestudy onboard`: read a new centre's files, profile every column and propose its centre mapping.

read (files -> tables), profile (per-column summary for logs/), targets (the study variables), synonyms
(names and code labels in English and German), propose (scored column and code proposals), mapping (the
commented YAML mapping, the previous mapping carried over), check (the dry run through the table readers),
run (the command)."""
