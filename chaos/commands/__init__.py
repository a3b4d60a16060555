"""The harness layers' ``crashcart`` subcommands, one module each (see ``chaos.cli``).

A module here exposes ``add_parser(subparsers)``; it adds its parser and sets
``handler=fn(args, topology) -> int`` as the parser's default. Its name is listed in
``chaos.cli.COMMAND_MODULES``.
"""
