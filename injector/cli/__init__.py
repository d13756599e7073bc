"""The ``injector`` command: one module per subcommand, registered in :mod:`injector.cli.main`."""
