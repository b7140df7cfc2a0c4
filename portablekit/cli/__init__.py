"""Every command line of the kit: ``portablekit`` and the portablectl it simulates.

=======================  ========================================================================
:mod:`.main`             the ``portablekit`` command: dispatch, ``--help``, and the one place
                         errors become exit statuses
:mod:`.invocation`       the global options (``--root``, ``--systemd``, ``--fixed``), parsed once
:mod:`.command`          what a kit command is made of, and its never-exiting argument parser
:mod:`.portablectl`      portablectl's verbs against a sandbox root, with its exit statuses
:mod:`.portablectl_options`  portablectl's options, help and getopt wording
:mod:`.portablectl_text`     what the verbs print: ``list``, ``inspect``, the dry-run plan
:mod:`.texttable`        plain-text tables and help entries
:mod:`.sandbox`          ``sandbox init``
:mod:`.oracle`           ``replay`` and ``dump``: the portabled oracle's formats
:mod:`.demo`             ``demo``: the walkthrough on the sample images
:mod:`.security`         ``security`` and ``compare-profiles``
:mod:`.check`            ``check``
=======================  ========================================================================
"""
