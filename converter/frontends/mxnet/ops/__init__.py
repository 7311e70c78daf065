"""All MXNet op handlers, by op name; each family is listed by hand.

ALIASES maps the other names MXNet registers for an op (src/operator: `.add_alias`), and the
spellings of files from before MXNet 0.9, to the name its handler has.
"""

from __future__ import annotations

from converter.frontends.mxnet.model import Handler
from converter.frontends.mxnet.ops import (
    activation,
    conv,
    elementwise,
    indexing,
    matmul,
    misc,
    normalization,
    pooling,
    reduction,
    resize,
    shape,
    vision,
)

FAMILIES = (conv, matmul, pooling, activation, normalization, elementwise, reduction, shape, indexing, resize, misc, vision)

ALIASES: dict[str, str] = {
    "concat": "Concat",
    "split": "SliceChannel",
    "crop": "slice",
    "reshape": "Reshape",
    "flatten": "Flatten",
    "pad": "Pad",
    "cast": "Cast",
    "Softmax": "SoftmaxOutput",
    "ElementWiseSum": "add_n",
    "identity": "_copy",
    "stop_gradient": "BlockGrad",
    "sum_axis": "sum",
    "max_axis": "max",
    "min_axis": "min",
    "broadcast_plus": "broadcast_add",
    "broadcast_minus": "broadcast_sub",
    "_add": "elemwise_add",
    "_plus": "elemwise_add",
    "_Plus": "elemwise_add",
    "_sub": "elemwise_sub",
    "_minus": "elemwise_sub",
    "_Minus": "elemwise_sub",
    "_mul": "elemwise_mul",
    "_Mul": "elemwise_mul",
    "_div": "elemwise_div",
    "_Div": "elemwise_div",
    "_Power": "_power",
    "_Maximum": "_maximum",
    "_Minimum": "_minimum",
    "_Equal": "_equal",
    "_Not_Equal": "_not_equal",
    "_Greater": "_greater",
    "_Greater_Equal": "_greater_equal",
    "_Lesser": "_lesser",
    "_Lesser_Equal": "_lesser_equal",
    "_Logical_And": "_logical_and",
    "_Logical_Or": "_logical_or",
    "_Logical_Xor": "_logical_xor",
    "_PlusScalar": "_plus_scalar",
    "_MinusScalar": "_minus_scalar",
    "_RMinusScalar": "_rminus_scalar",
    "_MulScalar": "_mul_scalar",
    "_DivScalar": "_div_scalar",
    "_RDivScalar": "_rdiv_scalar",
    "_PowerScalar": "_power_scalar",
    "_RPowerScalar": "_rpower_scalar",
    "_MaximumScalar": "_maximum_scalar",
    "_MinimumScalar": "_minimum_scalar",
    "_EqualScalar": "_equal_scalar",
    "_NotEqualScalar": "_not_equal_scalar",
    "_GreaterScalar": "_greater_scalar",
    "_GreaterEqualScalar": "_greater_equal_scalar",
    "_LesserScalar": "_lesser_scalar",
    "_LesserEqualScalar": "_lesser_equal_scalar",
    "_LogicalAndScalar": "_logical_and_scalar",
    "_LogicalOrScalar": "_logical_or_scalar",
    "_LogicalXorScalar": "_logical_xor_scalar",
    "MultiBoxPrior": "_contrib_MultiBoxPrior",
    "_npx_multibox_prior": "_contrib_MultiBoxPrior",
    "MultiBoxDetection": "_contrib_MultiBoxDetection",
    "_npx_multibox_detection": "_contrib_MultiBoxDetection",
}


def _collect() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for family in FAMILIES:
        for op_type, handler in family.HANDLERS.items():
            if op_type in table:
                raise RuntimeError(f"MXNet op {op_type} has two handlers")
            table[op_type] = handler
    missing = sorted(alias for alias, name in ALIASES.items() if name not in table)
    if missing:
        raise RuntimeError(f"MXNet aliases of ops without handlers: {missing}")
    return table


HANDLERS: dict[str, Handler] = _collect()
