"""Reads generated DAG files the way Python sees them and prints what they say, as JSON.

Nothing is executed: the file is parsed with ``ast`` and every value is recovered with
``ast.literal_eval``, so a value that was not emitted as a pure literal makes this fail.
The only calls allowed in values are ``literal(<literal>)``, read as {"literal": value}, and
``k8s.V1ResourceRequirements(<keyword>=<value>, ...)``, read as
{"k8s.V1ResourceRequirements": {keyword: value}}; they may sit inside dicts and lists.
Tasks are ``BashOperator(...)`` or ``KubernetesPodOperator(...)`` calls, keyword arguments only.
Usage: python3 inspect_dag.py FILE... (prints one JSON array, one entry per file).
"""

import ast
import io
import json
import sys
import tokenize


def call_name(node):
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return func.value.id + "." + func.attr
    return None


def pendulum_date(node):
    assert call_name(node) == "pendulum.datetime", ast.dump(node)
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    return {"ymd": [ast.literal_eval(a) for a in node.args], "tz": kwargs["tz"]}


def default_args(node):
    assert isinstance(node, ast.Dict), ast.dump(node)
    out = {}
    for key, value in zip(node.keys, node.values):
        name = ast.literal_eval(key)
        if name == "retry_delay":
            assert call_name(value) == "datetime.timedelta", ast.dump(value)
            out[name] = {"minutes": ast.literal_eval(value.keywords[0].value)}
        else:
            out[name] = ast.literal_eval(value)
    out["__order__"] = [ast.literal_eval(k) for k in node.keys]
    return out


def dag_kwargs(call):
    out = {}
    for kw in call.keywords:
        if kw.arg in ("start_date", "end_date"):
            out[kw.arg] = pendulum_date(kw.value)
        elif kw.arg == "default_args":
            out[kw.arg] = default_args(kw.value)
        else:
            out[kw.arg] = ast.literal_eval(kw.value)
    out["__order__"] = [kw.arg for kw in call.keywords]
    return out


def value_of(node):
    """A literal, with literal(), Asset(), Dataset() and k8s.V1ResourceRequirements() calls read as tagged dicts."""
    name = call_name(node)
    if name == "literal":
        assert len(node.args) == 1 and not node.keywords, ast.dump(node)
        return {"literal": ast.literal_eval(node.args[0])}
    if name in ("Asset", "Dataset"):
        assert len(node.args) == 1 and not node.keywords, ast.dump(node)
        return {name: ast.literal_eval(node.args[0])}
    if name == "k8s.V1ResourceRequirements":
        assert not node.args, ast.dump(node)
        return {name: {kw.arg: value_of(kw.value) for kw in node.keywords}}
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values):
            out[ast.literal_eval(key)] = value_of(value)
        return out
    if isinstance(node, ast.List):
        return [value_of(item) for item in node.elts]
    return ast.literal_eval(node)


def alias(name):
    return " as " + name.asname if name.asname else ""


def edges_of(expr, out):
    """Flattens ``a >> b >> c`` into [a, b], [b, c]; returns the rightmost name."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.RShift):
        left = edges_of(expr.left, out)
        right = edges_of(expr.right, out)
        out.append([left, right])
        return right
    assert isinstance(expr, ast.Name), ast.dump(expr)
    return expr.id


def inspect(path):
    raw = open(path, "rb").read()
    raw.decode("ascii")  # pure ASCII or this raises
    source = raw.decode("ascii")
    tree = ast.parse(source, filename=path)
    comments = [
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]

    constants = {}
    imports = []
    top_level = []
    dag = None
    for stmt in tree.body:
        top_level.append(type(stmt).__name__)
        if isinstance(stmt, ast.Import):
            imports += ["import " + a.name + alias(a) for a in stmt.names]
        elif isinstance(stmt, ast.ImportFrom):
            imports += ["from %s import %s%s" % (stmt.module, a.name, alias(a)) for a in stmt.names]
        elif isinstance(stmt, ast.Assign):
            (target,) = stmt.targets
            constants[target.id] = value_of(stmt.value)
        elif isinstance(stmt, ast.With):
            (item,) = stmt.items
            assert call_name(item.context_expr) == "DAG"
            assert item.optional_vars.id == "dag"
            dag = stmt

    tasks = []
    variables = {}
    edges = []
    for stmt in dag.body:
        if isinstance(stmt, ast.Assign):
            operator = call_name(stmt.value)
            assert operator in ("BashOperator", "KubernetesPodOperator"), ast.dump(stmt)
            assert not stmt.value.args, ast.dump(stmt)
            (target,) = stmt.targets
            kwargs = {"operator": operator}
            for kw in stmt.value.keywords:
                if isinstance(kw.value, ast.Name):
                    kwargs[kw.arg] = {"name": kw.value.id, "value": constants[kw.value.id]}
                else:
                    kwargs[kw.arg] = value_of(kw.value)
            kwargs["__order__"] = [kw.arg for kw in stmt.value.keywords]
            variables[target.id] = kwargs["task_id"]
            tasks.append({"variable": target.id, **kwargs})
        elif isinstance(stmt, ast.Expr):
            edges_of(stmt.value, edges)
        else:
            assert isinstance(stmt, ast.Pass), ast.dump(stmt)

    return {
        "docstring": ast.get_docstring(tree, clean=False),
        "comments": comments,
        "imports": imports,
        "top_level": top_level,
        "constants": sorted(constants),
        "dag": dag_kwargs(dag.items[0].context_expr),
        "tasks": tasks,
        "edges": [[variables[a], variables[b]] for a, b in edges],
    }


if __name__ == "__main__":
    print(json.dumps([inspect(p) for p in sys.argv[1:]], ensure_ascii=True))
