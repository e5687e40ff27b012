"""``python -m graph`` runs the command line.

``python -P -m graph hook`` (what the installed Claude Code hooks run) goes straight to
:mod:`graph.hook_run`, without loading the rest of the command line and the GraphQL
stack behind it: it runs after every turn, and would otherwise spend most of its time
starting.
"""

import sys

if sys.argv[1:2] == ["hook"]:
    from graph.hook_run import main as hook_main

    hook_main(sys.argv[2:])
else:
    from graph.cli import main

    main()
