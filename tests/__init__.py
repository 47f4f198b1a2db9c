"""Tests of the extravasation-llm package (a package so that its own modules win over any installed `tests`)."""
