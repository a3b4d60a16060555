"""``crashcart run``: the whole harness in one command, and the Allure report it ends with.

One module per job: ``layers`` (the registry: which pytest paths make a layer, its order and
profiles), ``categories`` (failure categories of the report), ``lock`` (one run per state
dir), ``progress`` (a pytest plugin counting results into a file), ``pytest_layer`` (one
layer as a pytest subprocess), ``cleanup`` (faults removed after a layer or an interrupt),
``report`` (environment, executor, Allure config, ``allure generate`` with history),
``summary`` (the terminal verdict), ``orchestrator`` (the sequence).
"""
