project = "alttext sample"
extensions = ["myst_parser", "alttext.sphinx"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "basic"
