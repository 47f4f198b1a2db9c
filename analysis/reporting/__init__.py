"""Reporting: tables, figures and pages written from what evaluation computed.

``tables`` (CSV, Markdown and LaTeX files of every table), ``figures`` (the
pipeline figure and the views of Tables 1A/1B), ``diagram`` (the box-and-arrow
layout under the pipeline figure), ``review`` (the reviewer sheet, from its
Jinja template), ``readme`` (the README's results sections) and
``reproduction`` (the reference labels, and the report of a run beside them). Nothing here
computes a statistic or calls a model; it may import every layer below it.
"""
