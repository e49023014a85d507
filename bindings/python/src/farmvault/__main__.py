"""``python -m farmvault``: the command line, for interpreters without the console
script on their PATH (mayapy, hython, Nuke's Python)."""

from farmvault._cli import main

main()
