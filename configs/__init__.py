"""Pipeline configurations as data: `default.yaml` is the pass order, precisions and tolerances.

A package only so that the YAML ships in the wheel as package data; read it with
`importlib.resources.files("configs")` (see converter.config).
"""
