"""Reporting: tables, figures and pages written from what evaluation computed.

The steps after labeling, each reading the run's files: ``tables``
(``table1a_step``, ``table1b_step``: CSV, Markdown and LaTeX files of every
table), ``figures`` (``figures_step``: the pipeline figure and the views of
Tables 1A/1B, the reviewer sheet, the README's results) and ``variants``
(``variants_step``: the prompt variants, labeled and compared). Beside them:
``diagram`` (the box-and-arrow layout under the pipeline figure), ``review``
(the reviewer sheet, from its Jinja template), ``adjudication``
(``adjudicate_step``: the reviewer's decisions applied, and scored), ``views`` (what the notebooks
show of a step's files), ``readme`` (the results sections of the README and
the docs) and ``reproduction`` (the reference labels, and the report of a
run beside them). Nothing here
computes a statistic or calls a model; it may import every layer below it.
"""
