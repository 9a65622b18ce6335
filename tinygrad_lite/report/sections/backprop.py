"""1. Backpropagation through a neuron: every edge, the graph, and the step-by-step animation."""
from __future__ import annotations

from ...experiments.neuron import LECTURE, sigmoid_neuron
from ..context import Context
from ..html import fmt, table
from ..registry import Section, section

INTRO = (
    "Backpropagation is the chain rule applied one gate at a time. Each gate knows only its "
    "local gradient (how its output moves with each input); during the backward pass it "
    "receives the upstream gradient (how the loss moves with its output), multiplies the two, "
    "and passes the product to its inputs. The worked example is one sigmoid neuron "
    "f = sigmoid(w0*x0 + w1*x1 + w2) with w0=2, x0=-1, w1=-3, x1=-2, w2=-3.")


@section("backprop", "1. Backpropagation through a neuron", INTRO)
def build(ctx: Context, s: Section) -> None:
    import viz

    r = sigmoid_neuron()
    rows = [[gate.node.label, fmt(gate.node.item(), 4), fmt(edge.upstream, 4),
             edge.parent.label, fmt(edge.local, 4), fmt(edge.downstream, 4)]
            for gate in r.gates for edge in gate.edges]
    s.add("<h3>Every edge: downstream = upstream x local</h3>" + table(
        ["gate output", "value", "upstream grad", "input", "local grad", "sent to input"],
        rows, "num"))
    f = r.output
    claimed = {k: v for k, v in LECTURE.items() if k != "f"}
    s.check(f"The neuron outputs {LECTURE['f']:.2f}.", f"f = {f:.4f}",
            abs(f - LECTURE["f"]) < 0.005)
    s.check("Gradients: " + ", ".join(f"{k} {v:.2f}" for k, v in claimed.items()) + ".",
            ", ".join(f"{k} {v:+.4f}" for k, v in r.grads.items()),
            all(abs(r.grads[k] - v) < 0.005 for k, v in claimed.items()))
    z = r.f.parents[0]
    s.check("The sigmoid gate's local gradient is (1 - f) f = 0.20, so z receives 0.20.",
            f"dL/dz = {z.grad.item():.4f}; (1 - f) f = {(1 - f) * f:.4f}",
            abs(z.grad.item() - (1 - f) * f) < 1e-12)
    s.add(ctx.graph(viz.draw_graph(r.f, title="sigmoid neuron"),
                    "The neuron's graph: every node shows its value and gradient; every edge "
                    "shows upstream x local = downstream."))
    s.attach("backprop.html",
             viz.animate_backward(r.f, title="Backprop through a sigmoid neuron").html,
             title="The backward pass, one node at a time",
             text="Use the buttons, the slider or the arrow keys.", embed=True)
    s.numbers = {"f": f, "grads": r.grads}
