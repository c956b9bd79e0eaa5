"""Building WHERE clauses from optional filters."""

from __future__ import annotations


def where(*conditions: tuple[str, object]) -> tuple[str, list]:
    """Join the conditions whose value is set (not None, False or "") with AND.

    A clause with `?` marks takes its value for each of them; one without is a flag (value True).
    Returns the WHERE body (never empty) and the parameters in order.
    """
    clauses, params = ["1 = 1"], []
    for clause, value in conditions:
        if value is None or value is False or value == "":
            continue
        clauses.append(clause)
        params.extend([value] * clause.count("?"))
    return " AND ".join(clauses), params
