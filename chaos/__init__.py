"""The fault side of the harness: the Toxiproxy-compatible server (``toxiproxy``), fault
context managers (``faults``), the backends that run the topology (``backends``), the
topology loader shared by the harness (``topology``) and the ``crashcart`` CLI (``cli``)."""
