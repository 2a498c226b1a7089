"""Registers ``mix:A+B``, which :mod:`albench.builtin.mixing` implements."""

from albench import hookimpl


@hookimpl
def albench_register_strategies(register):
    register("mix:", "albench.builtin.mixing:mix", "half of each batch (rounded up) from "
             "strategy A, the rest from strategy B")
