"""Conversation threading over Message-ID, In-Reply-To and References (JWZ-style).

Pure logic, no storage: the store hands in the messages of the threads a new message
touches (:class:`ThreadMessage`) and writes back the thread ids :func:`build_threads`
computes. The rule is a function of the *set* of messages only — never of the order
they arrived in, the backend, or a database sequence — so the same mail gets the same
thread ids in every store (see docs/threads.md):

1. Every message is a node named by its normalised Message-ID; every id it mentions
   (its ``References``, then its ``In-Reply-To`` if not already there) is a node too, a
   *placeholder* while no stored message has it. Two messages with one Message-ID
   share a node.
2. A thread is a connected component of the links "``References[i-1]`` is the parent
   of ``References[i]``" and "the last reference is the parent of the message". So a
   late message whose references name two threads' messages merges them. Subjects are
   never used.
3. Each node gets one parent: a message's own last reference (the smallest, when two
   messages share the Message-ID); a node no stored message claims a parent for (a
   placeholder, or a message without references) takes the smallest of the parents
   other messages' ``References`` give it. A cycle (broken ``References``) is cut above
   its smallest node. Placeholders with no stored message below them are dropped.
4. The thread's root is its parentless node (the smallest, when conflicting links
   leave several); the thread id is ``sha256("thread:" + root)[:32]``, the same value
   :func:`mailatlas_core._ids.thread_id_for` gives a message whose ``References`` start
   at that root. A message with neither a Message-ID nor references is a thread of its
   own, keyed by its raw hash as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ._ids import thread_id_for

__all__ = [
    "MAX_CHAIN",
    "Thread",
    "ThreadMessage",
    "ThreadNode",
    "build_threads",
    "lone_thread_id",
    "parent_chain",
    "thread_changes",
]

# A hostile References header can name thousands of ids; the first (the thread's root)
# and the nearest ones are what threading uses.
MAX_CHAIN = 64
# How deep thread trees nest in JSON (see ThreadNode.to_dict).
MAX_DEPTH = 64


def parent_chain(
    message_id: str | None, references: Iterable[str], in_reply_to: str | None
) -> tuple[str, ...]:
    """The ancestors a message names, oldest first: ``References`` then ``In-Reply-To``.

    Repeats and the message's own id are dropped (a cycle of length one); at most
    :data:`MAX_CHAIN` ids are kept: the first and the nearest ones.
    """
    chain: dict[str, None] = {}
    for ref in (*references, in_reply_to):
        if ref and ref != message_id:
            chain.setdefault(ref, None)
    ids = tuple(chain)
    if len(ids) > MAX_CHAIN:
        ids = (ids[0], *ids[len(ids) - MAX_CHAIN + 1 :])
    return ids


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """What threading needs to know of one stored message."""

    document_id: str
    message_id: str | None
    chain: tuple[str, ...]  # parent_chain(): ancestors named by the message, oldest first
    fallback: str  # the raw hash: the key of a message with no ids at all
    date: str = ""  # sent date (UTC ISO-8601), to order siblings
    subject: str = ""
    sender: str | None = None

    @property
    def node(self) -> str:
        """The node this message sits in (its Message-ID, else a key of its own)."""
        return self.message_id if self.message_id else f"\x00doc:{self.document_id}"


@dataclass(slots=True)
class ThreadNode:
    """One node of a thread tree: a Message-ID, the stored messages that have it (more
    than one when different messages claim one id; none for a placeholder), its replies."""

    message_id: str | None
    messages: list[ThreadMessage] = field(default_factory=list)
    children: list[ThreadNode] = field(default_factory=list)
    first_date: str = ""  # the earliest sent date in this subtree

    @property
    def missing(self) -> bool:
        """A placeholder: referenced by a stored message, not stored itself."""
        return not self.messages

    def _own_dict(self, parent: str | None) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "in_reply_to": parent,
            "missing": self.missing,
            "documents": [
                {
                    "id": m.document_id,
                    "subject": m.subject,
                    "sender_email": m.sender,
                    "date": m.date or None,
                }
                for m in self.messages
            ],
            "replies": [],
        }

    def to_dict(self, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
        """This subtree as nested dicts. Below ``max_depth`` levels, the rest of a
        branch is listed flat, in order, among the replies of its ancestor at that depth
        (each entry names what it answers in ``in_reply_to``): JSON readers have
        nesting limits, and a hostile thread can be thousands of replies deep."""
        top: list[dict[str, Any]] = []
        stack: list[tuple[ThreadNode, str | None, list[dict[str, Any]], int]] = [
            (self, None, top, 0)
        ]
        while stack:
            node, parent, into, depth = stack.pop()
            entry = node._own_dict(parent)
            into.append(entry)
            below = entry["replies"] if depth <= max_depth else into
            for child in reversed(node.children):
                stack.append((child, node.message_id, below, depth + 1))
        return top[0]


@dataclass(slots=True)
class Thread:
    """One conversation: its id, root node and the stored messages in it."""

    thread_id: str
    root: str  # the root node's Message-ID (or the raw hash of an id-less message)
    roots: list[ThreadNode]  # one, unless conflicting links left several
    messages: list[ThreadMessage]

    def in_order(self) -> list[ThreadMessage]:
        """The stored messages by sent date (then document id): the conversation in order."""
        return sorted(self.messages, key=lambda m: (m.date, m.document_id))

    def parent_of(self) -> dict[str, str | None]:
        """Document id -> the document id of the nearest stored ancestor (None at the top)."""
        out: dict[str, str | None] = {}
        stack: list[tuple[ThreadNode, str | None]] = [(r, None) for r in self.roots]
        while stack:
            node, above = stack.pop()
            for m in node.messages:
                out[m.document_id] = above
            here = node.messages[0].document_id if node.messages else above
            stack.extend((child, here) for child in node.children)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "root": self.root,
            "message_count": len(self.messages),
            "tree": [r.to_dict() for r in self.roots],
        }


def build_threads(messages: Sequence[ThreadMessage]) -> list[Thread]:
    """Group ``messages`` into threads (see the module docstring for the rule).

    The result depends only on the set of messages given: the same set in any order
    gives the same threads, ids and trees.
    """
    by_node: dict[str, list[ThreadMessage]] = {}
    for m in messages:
        by_node.setdefault(m.node, []).append(m)
    components = _components(messages)
    parents = _parents(messages, by_node)
    threads = []
    for nodes in components:
        threads.append(_thread(nodes, parents, by_node))
    threads.sort(key=lambda t: t.thread_id)
    return threads


def lone_thread_id(message: ThreadMessage) -> str:
    """``build_threads([message])[0].thread_id``, without building the tree: the thread
    id of a message no stored thread names (the common case; one per new message).

    Alone, the message's chain is one path ending at it, so its root is the chain's
    first id, else its own Message-ID, else its raw hash (rule 4).
    """
    root = message.chain[0] if message.chain else message.message_id
    if root:
        return thread_id_for(root, (), None, "")
    return thread_id_for(None, (), None, message.fallback)


def _components(messages: Sequence[ThreadMessage]) -> list[list[str]]:
    """The connected components of the reference links (union-find), nodes sorted."""
    up: dict[str, str] = {}

    def find(x: str) -> str:
        up.setdefault(x, x)
        while up[x] != x:
            up[x] = up[up[x]]
            x = up[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            up[max(ra, rb)] = min(ra, rb)

    for m in messages:
        find(m.node)
        path = (*m.chain, m.node)
        for a, b in pairwise(path):
            union(a, b)
    groups: dict[str, list[str]] = {}
    for node in up:
        groups.setdefault(find(node), []).append(node)
    return [sorted(g) for g in groups.values()]


def _parents(
    messages: Sequence[ThreadMessage], by_node: dict[str, list[ThreadMessage]]
) -> dict[str, str]:
    """Each node's one parent (rule 3), cycles cut."""
    own: dict[str, str] = {}
    told: dict[str, str] = {}
    for m in messages:
        if m.chain:
            claim = m.chain[-1]
            if m.node not in own or claim < own[m.node]:
                own[m.node] = claim
        for a, b in pairwise(m.chain):
            if b not in told or a < told[b]:
                told[b] = a
    parent = dict(told)
    parent.update(own)  # a message's own word about its parent wins
    _cut_cycles(parent)
    return parent


def _cut_cycles(parent: dict[str, str]) -> None:
    """Remove the parent link of the smallest node of every cycle (in place).

    Each node has one parent, so cycles are disjoint and the result does not depend on
    the order they are found in.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(parent):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            path.append(node)
            node = parent.get(node)
        if node is not None and state.get(node) == 1:  # came back onto this path
            cycle = path[path.index(node) :]
            del parent[min(cycle)]
        for n in path:
            state[n] = 2


def _thread(
    nodes: list[str], parents: dict[str, str], by_node: dict[str, list[ThreadMessage]]
) -> Thread:
    tree = {n: ThreadNode(None if n.startswith("\x00") else n, by_node.get(n, [])) for n in nodes}
    tops: list[str] = []
    for n in nodes:
        p = parents.get(n)
        if p is not None and p in tree:
            tree[p].children.append(tree[n])
        else:
            tops.append(n)
    for node in tree.values():
        node.messages.sort(key=lambda m: (m.date, m.document_id))
    kept = [n for n in tops if _prune(tree[n])]
    members = [m for n in nodes for m in by_node.get(n, [])]
    root = min(kept) if kept else nodes[0]
    if root.startswith("\x00"):
        only = by_node[root][0]
        thread_id = thread_id_for(None, (), None, only.fallback)
        root_name = only.fallback
    else:
        thread_id = thread_id_for(root, (), None, "")
        root_name = root
    roots = sorted((tree[n] for n in kept), key=lambda t: (t.first_date, t.message_id or ""))
    return Thread(thread_id=thread_id, root=root_name, roots=roots, messages=members)


def _prune(top: ThreadNode) -> bool:
    """Drop placeholder subtrees without stored messages, date each subtree and order
    replies by date. Iterative (a thread can be deeper than Python's recursion limit).

    Returns whether ``top`` holds a stored message (itself or below).
    """
    order: list[ThreadNode] = []
    stack = [top]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    for node in reversed(order):  # children before their parents
        node.children = [c for c in node.children if c.messages or c.children]
        node.children.sort(key=lambda c: (c.first_date, c.message_id or ""))
        dates = [m.date for m in node.messages if m.date]
        dates += [c.first_date for c in node.children if c.first_date]
        node.first_date = min(dates, default="")
    return bool(top.messages or top.children)


def thread_changes(
    threads: Sequence[Thread], current: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    """(thread id, document id) for every document whose thread id in ``current``
    (document id -> stored thread id) differs from ``threads``; documents not in
    ``current`` (one not inserted yet) are left out."""
    return [
        (t.thread_id, m.document_id)
        for t in threads
        for m in t.messages
        if m.document_id in current and current[m.document_id] != t.thread_id
    ]
