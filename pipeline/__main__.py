"""`python -m pipeline ...` is the `flowers-pipeline` command."""

from pipeline.cli import main

raise SystemExit(main())
