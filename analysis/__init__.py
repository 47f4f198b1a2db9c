"""Label active extravasation in abdominal trauma CT reports with local LLMs, and reproduce the study's tables.

Where a change goes, by subpackage, from the bottom layer up (each imports
only the layers below it; ``make test`` checks this):

- ``config``, ``data``: paths and the files of a run; the vocabulary of labels, sites, statuses and roles;
  reading and writing tables (lists as lists); the development/test split.
- ``specs``: task and run files (prompts and run settings as data).
- ``llm``: the client side of the LLM servers, Ollama's or OpenAI-compatible ones (asking, spreading reports
  over servers, answers, the response cache).
- ``labeling``: the labeling steps of a run (inputs, stage 1, ensemble, stage 2), the rule-based baseline,
  the labels table, the run's session and its manifest.
- ``evaluation``: metrics, intervals, comparisons, thresholds, variants, a run beside its reference.
- ``reporting``: the table and figure steps, the reviewer sheet, the notebooks' views, the README's results.

Beside them: ``serving`` (the embedded Ollama-compatible server, a product
of its own that nothing above imports), ``corpus`` (the generator of the
synthetic demo corpus, which only its own command and tests use),
``bench`` (speed against this machine's limit), ``dependencies`` (what each
notebook imports, for the Makefile) and the command line (``python -m
analysis``), which calls the same steps as the notebooks.
"""

__version__ = "0.1.0"
