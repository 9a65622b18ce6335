"""Backprop through one sigmoid neuron, node by node (the backprop lecture's worked example).

    f = sigmoid(w0 * x0 + w1 * x1 + w2),  w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3

The output is 0.73. Every gate receives an upstream gradient (dL/d its output), multiplies it
by its local gradient (d its output / d each input), and sends the product to its inputs.
Expected gradients: w0 -0.20, x0 0.39, w1 -0.39, x1 -0.59, w2 0.20.

The experiment is tinygrad_lite.experiments.neuron; this script prints it and draws its graph.

Run:  python examples/neuron.py [--out DIR]
"""
import argparse
import os

from tinygrad_lite.experiments.neuron import LECTURE, Gate, sigmoid_neuron


def describe(gate: Gate) -> str:
    """One line per node: its value, the gradient it received, and one line per input edge."""
    node = gate.node
    name = node.label or node.op
    lines = [f"{name:>8} = {node.item():+.4f}   upstream grad dL/d{name} = {node.grad.item():+.4f}"]
    for edge in gate.edges:
        parent = edge.parent.label or edge.parent.op
        lines.append(f"{'':>10}-> {parent}: local grad {edge.local:+.4f}, "
                     f"sends {edge.upstream:+.4f} * {edge.local:+.4f} = {edge.downstream:+.4f}")
    return "\n".join(lines)


def main(quick=False, out="figures"):
    """Build the neuron, run backward, print every node; returns the values and gradients."""
    result = sigmoid_neuron()

    print("forward and backward, output first:")
    for gate in result.gates:
        print(describe(gate))
    print()
    print(f"{'':4}{'claim':>8} {'measured':>9}")
    print(f"{'f':4}{LECTURE['f']:>8.2f} {result.output:>9.4f}")
    for name, grad in result.grads.items():
        print(f"{name:4}{LECTURE[name]:>8.2f} {grad:>9.4f}")

    svg = None
    try:
        import viz
        draw = viz.draw_graph
    except (ImportError, AttributeError):
        print("viz is not available (from a clone: pip install -e \".[viz]\"; "
              "from a wheel: pip install \"tinygrad_lite[viz]\"): no graph drawn")
    else:
        os.makedirs(out, exist_ok=True)
        svg = os.path.join(out, "neuron.svg")
        draw(result.f, path=svg)
        print(f"graph with upstream and local gradients: {svg}")
    return {"f": result.output, "grads": result.grads, "svg": svg}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(no effect: already instant)")
    parser.add_argument("--out", default="figures", help="folder for the graph SVG")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
