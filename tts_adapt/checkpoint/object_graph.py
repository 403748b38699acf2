"""The TF2 object graph (``_CHECKPOINTABLE_OBJECT_GRAPH``): find optimizers, drop deleted objects.

An object-based checkpoint restores by walking this graph, so when the surgery
deletes a variable (the speaker table) or the optimizer state, the graph must
lose those objects too, or the output would still promise tensors it lacks.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

from tensorflow.core.protobuf import trackable_object_graph_pb2

ObjectGraph = trackable_object_graph_pb2.TrackableObjectGraph


def parse_object_graph(data: bytes) -> ObjectGraph:
    graph = ObjectGraph()
    graph.ParseFromString(data)
    return graph


def node_paths(graph: ObjectGraph) -> dict[int, str]:
    """The shortest object path of every node reachable from the root (node 0)."""
    paths = {0: ""}
    queue = deque([0])
    while queue:
        node_id = queue.popleft()
        for child in graph.nodes[node_id].children:
            if child.node_id not in paths:
                base = paths[node_id]
                paths[child.node_id] = f"{base}/{child.local_name}" if base else child.local_name
                queue.append(child.node_id)
    return paths


def optimizer_paths(graph: ObjectGraph) -> list[str]:
    """Paths of the objects that own slot variables, i.e. the optimizers."""
    paths = node_paths(graph)
    return sorted({paths[i] for i, node in enumerate(graph.nodes) if node.slot_variables and i in paths})


def prune_object_graph(graph: ObjectGraph, kept: Callable[[str], bool]) -> ObjectGraph:
    """A copy of ``graph`` without the objects whose every saved tensor was deleted.

    ``kept(checkpoint_key)`` says whether a tensor survives. A node goes when it
    saved tensors and none survive, or when it had children and all of them went
    (a layer whose only weight was the deleted table). Node ids are renumbered.
    """
    n = len(graph.nodes)
    removed = [False] * n
    for i, node in enumerate(graph.nodes):
        if node.attributes and not any(kept(a.checkpoint_key) for a in node.attributes):
            removed[i] = True
    changed = True
    while changed:  # propagate to parents that are left empty
        changed = False
        for i, node in enumerate(graph.nodes):
            if i == 0 or removed[i] or node.attributes or not node.children:
                continue
            if all(removed[c.node_id] for c in node.children):
                removed[i] = changed = True
    new_id = {}
    for i in range(n):
        if not removed[i]:
            new_id[i] = len(new_id)
    out = ObjectGraph()
    for i, node in enumerate(graph.nodes):
        if removed[i]:
            continue
        copy = out.nodes.add()
        copy.CopyFrom(node)
        del copy.children[:]
        for child in node.children:
            if not removed[child.node_id]:
                ref = copy.children.add()
                ref.CopyFrom(child)
                ref.node_id = new_id[child.node_id]
        del copy.slot_variables[:]
        for slot in node.slot_variables:
            if removed[slot.original_variable_node_id] or removed[slot.slot_variable_node_id]:
                continue
            ref = copy.slot_variables.add()
            ref.CopyFrom(slot)
            ref.original_variable_node_id = new_id[slot.original_variable_node_id]
            ref.slot_variable_node_id = new_id[slot.slot_variable_node_id]
        kept_attributes = [a for a in node.attributes if kept(a.checkpoint_key)]
        del copy.attributes[:]
        copy.attributes.extend(kept_attributes)
    return out
