"""Backprop through one sigmoid neuron, node by node (the backprop lecture's worked example).

    f = sigmoid(w0 * x0 + w1 * x1 + w2),  w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3

The output is 0.73. Every gate receives an upstream gradient (dL/d its output), multiplies it
by its local gradient (d its output / d each input), and sends the product to its inputs.
Expected gradients: w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20.

Run:  python examples/neuron.py [--out DIR]
Step through main() in a debugger: one computation per line.
"""
import argparse
import os

from tinygrad_lite import Value, backward_order
import tinygrad_lite.functional as F


def describe(node):
    """One line per node: its value, the gradient it received, and one line per input edge."""
    name = node.label or node.op
    lines = [f"{name:>8} = {node.item():+.4f}   upstream grad dL/d{name} = {node.grad.item():+.4f}"]
    ctx = node._ctx
    for i, parent in enumerate(node.parents):
        local = float(ctx.local_grad(i))
        sent = local * node.grad.item()
        lines.append(f"{'':>10}-> {parent.label or parent.op}: local grad {local:+.4f}, "
                     f"sends {node.grad.item():+.4f} * {local:+.4f} = {sent:+.4f}")
    return "\n".join(lines)


def main(quick=False, out="figures"):
    """Build the neuron, run backward, print every node; returns the values and gradients."""
    w0 = Value(2.0, label="w0")
    x0 = Value(-1.0, label="x0")
    w1 = Value(-3.0, label="w1")
    x1 = Value(-2.0, label="x1")
    w2 = Value(-3.0, label="w2")
    a = w0 * x0
    a.label = "w0*x0"
    b = w1 * x1
    b.label = "w1*x1"
    c = a + b
    c.label = "c"
    z = c + w2
    z.label = "z"
    f = F.sigmoid(z)
    f.label = "f"
    f.backward()

    print("forward and backward, output first:")
    for node in reversed(backward_order(f)):
        if node.parents:
            print(describe(node))
    print()
    grads = {v.label: v.grad.item() for v in (w0, x0, w1, x1, w2)}
    print(f"{'':4}{'claim':>8} {'measured':>9}")
    print(f"{'f':4}{0.73:>8.2f} {f.item():>9.4f}")
    for name, claim in (("w0", -0.20), ("x0", 0.39), ("w1", -0.39), ("x1", -0.59),
                        ("w2", 0.20)):
        print(f"{name:4}{claim:>8.2f} {grads[name]:>9.4f}")

    svg = None
    try:
        import viz
        draw = viz.draw_graph
    except (ImportError, AttributeError):
        print("viz is not available (pip install tinygrad_lite[viz]): no graph drawn")
    else:
        os.makedirs(out, exist_ok=True)
        svg = os.path.join(out, "neuron.svg")
        draw(f, path=svg)
        print(f"graph with upstream and local gradients: {svg}")
    return {"f": f.item(), "grads": grads, "svg": svg}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(no effect: already instant)")
    parser.add_argument("--out", default="figures", help="folder for the graph SVG")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
