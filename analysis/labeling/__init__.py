"""Labeling: from reports to labels, one module per stage.

``inputs`` (the impression each report sends, found by ``impression`` and
screened by ``screening``), ``stage1`` (every model's Yes/No/Undefined, and
the rule-based ``baseline``), ``ensemble`` (the majority vote), ``stage2``
(the sites, for the reports the gate model called Yes), ``labels`` (the
labels table), ``labeler`` (the run's models, server and cache, which every
stage asks through), ``manifest`` (what a reader needs to trust and repeat a
run), ``numerics`` (what decides llama.cpp's arithmetic on this machine, for
the manifest) and ``pipeline`` (every stage at once, for the command line). The
notebooks and the command line call the same stage functions. It may import
``analysis.llm``, ``analysis.specs`` and ``analysis.data``; nothing of
evaluation or reporting.
"""
