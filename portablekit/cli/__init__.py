"""Every command line of the kit: ``portablekit`` and the portablectl it simulates.

:mod:`.main` is the ``portablekit`` command and the one place errors become exit codes;
:mod:`.portablectl` runs portablectl's verbs against a sandbox root with portablectl's own
option parser (:mod:`.ctlargs`); :mod:`.security` and :mod:`.check` are the analysis
commands, :mod:`.demo` the walkthrough.
"""
