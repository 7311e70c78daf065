"""Matrix products: MatMul-1 (numpy semantics plus transpose flags) and Einsum-7."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from converter.ir.graph import Node
from converter.ir.types import Dim, Shape, TensorType
from converter.ops.spec import Attr, AttrKind, OpSpec, broadcast_dims, tensor


def _matmul_dims(a: tuple[Dim, ...], b: tuple[Dim, ...], transpose_a: bool, transpose_b: bool) -> list[Dim]:
    a_dims, b_dims = list(a), list(b)
    if len(a_dims) >= 2 and transpose_a:
        a_dims[-2], a_dims[-1] = a_dims[-1], a_dims[-2]
    if len(b_dims) >= 2 and transpose_b:
        b_dims[-2], b_dims[-1] = b_dims[-1], b_dims[-2]
    a_vector, b_vector = len(a_dims) == 1, len(b_dims) == 1
    if a_vector:
        a_dims = [1, *a_dims]
    if b_vector:
        b_dims = [*b_dims, 1]
    k_a, k_b = a_dims[-1], b_dims[-2]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise ValueError(f"MatMul: inner dimensions {k_a} and {k_b} differ")
    batch = broadcast_dims(Shape(tuple(a_dims[:-2])), Shape(tuple(b_dims[:-2])))
    assert batch.dims is not None
    dims = [*batch.dims, a_dims[-2], b_dims[-1]]
    if b_vector:
        dims.pop(-1)
    if a_vector:
        dims.pop(-2 if not b_vector else -1)
    return dims


def _infer_matmul(node: Node) -> list[TensorType]:
    a, b = node.inputs
    if a.shape.dims is None or b.shape.dims is None:
        return [tensor(a.element_type, None)]
    return [tensor(a.element_type, _matmul_dims(a.shape.dims, b.shape.dims, node.attrs["transpose_a"], node.attrs["transpose_b"]))]


def _matmul_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    a, b = inputs
    if attrs["transpose_a"] and a.ndim >= 2:
        a = np.swapaxes(a, -1, -2)
    if attrs["transpose_b"] and b.ndim >= 2:
        b = np.swapaxes(b, -1, -2)
    return [np.matmul(a, b).astype(inputs[0].dtype, copy=False)]


MatMul = OpSpec(
    "MatMul",
    "opset1",
    (Attr("transpose_a", AttrKind.BOOL, False), Attr("transpose_b", AttrKind.BOOL, False)),
    _infer_matmul,
    _matmul_kernel,
)

# ---------------------------------------------------------------- Einsum-7

ELLIPSIS = "..."


def parse_equation(equation: str, count: int) -> tuple[list[str], str]:
    """Split `ij,jk->ik` into input terms and the output term (made explicit when implicit).

    The implicit output is the ellipsis (if any) then the labels used once, alphabetically.
    """
    equation = equation.replace(" ", "")
    if "->" in equation:
        left, output = equation.split("->")
    else:
        left, output = equation, None
    terms = left.split(",")
    if len(terms) != count:
        raise ValueError(f"Einsum: equation {equation!r} has {len(terms)} inputs, the node {count}")
    for term in terms + ([output] if output is not None else []):
        if not re.fullmatch(r"[a-zA-Z]*(\.\.\.)?[a-zA-Z]*", term):
            raise ValueError(f"Einsum: bad term {term!r} in {equation!r}")
    if output is None:
        letters = [c for term in terms for c in term.replace(ELLIPSIS, "")]
        single = sorted({c for c in letters if letters.count(c) == 1}, key=lambda c: (c.islower(), c))
        output = (ELLIPSIS if any(ELLIPSIS in t for t in terms) else "") + "".join(single)
    return terms, output


def _labels(term: str, rank: int) -> list[str]:
    """One label per axis; the ellipsis axes are labelled '.0', '.1', ... from the left."""
    if ELLIPSIS not in term:
        if len(term) != rank:
            raise ValueError(f"Einsum: term {term!r} does not match rank {rank}")
        return list(term)
    head, tail = term.split(ELLIPSIS)
    covered = rank - len(head) - len(tail)
    if covered < 0:
        raise ValueError(f"Einsum: term {term!r} does not match rank {rank}")
    return list(head) + [f".{i}" for i in range(covered)] + list(tail)


def _infer_einsum(node: Node) -> list[TensorType]:
    element_type = node.inputs[0].element_type
    terms, output = parse_equation(node.attrs["equation"], len(node.inputs))
    if any(v.shape.dims is None for v in node.inputs):
        rank = None if ELLIPSIS in output else len(output)
        return [tensor(element_type, None if rank is None else [None] * rank)]
    sizes: dict[str, Dim] = {}
    ellipsis_dims: list[Shape] = []
    for term, value in zip(terms, node.inputs):
        dims = value.shape.dims
        assert dims is not None
        labels = _labels(term, len(dims))
        ellipsis = tuple(d for label, d in zip(labels, dims) if label.startswith("."))
        ellipsis_dims.append(Shape(ellipsis))
        for label, dim in zip(labels, dims):
            if label.startswith("."):
                continue
            if sizes.get(label) is None:
                sizes[label] = dim
    broadcast = ellipsis_dims[0]
    for shape in ellipsis_dims[1:]:
        broadcast = broadcast_dims(broadcast, shape)
    dims_out: list[Dim] = []
    head, _, tail = output.partition(ELLIPSIS) if ELLIPSIS in output else (output, "", "")
    dims_out.extend(sizes.get(c) for c in head)
    if ELLIPSIS in output:
        assert broadcast.dims is not None
        dims_out.extend(broadcast.dims)
    dims_out.extend(sizes.get(c) for c in tail)
    return [tensor(element_type, dims_out)]


def _einsum_kernel(inputs: list[np.ndarray], attrs: dict[str, Any]) -> list[np.ndarray]:
    terms, output = parse_equation(attrs["equation"], len(inputs))
    return [np.asarray(np.einsum(",".join(terms) + "->" + output, *inputs)).astype(inputs[0].dtype, copy=False)]


Einsum = OpSpec("Einsum", "opset7", (Attr("equation", AttrKind.STR),), _infer_einsum, _einsum_kernel)

OPS: tuple[OpSpec, ...] = (MatMul, Einsum)
