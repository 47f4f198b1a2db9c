"""Reporting: tables, figures and pages written from what evaluation computed.

``tables`` (CSV, Markdown and LaTeX files of every table), ``figures`` (the
pipeline figure and the views of Tables 1A/1B), ``diagram`` (the box-and-arrow
layout under the pipeline figure), ``review`` (the reviewer sheet, from its
Jinja template) and ``readme`` (the README's results sections). Nothing here
computes a statistic or calls a model; it may import every layer below it.
"""
