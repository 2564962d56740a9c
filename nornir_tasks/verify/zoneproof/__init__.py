"""d. The zone matrix proven at the policy point, from the config text.

For every source (each zone at each site, and the operator's hosts) and every
destination (each zone at each site, each service address, the NOC, the internet) the
probe packets of the matrix (:class:`~nornir_tasks.verify.matrix.Probe`) are walked
through the network the texts describe: into the site gateway on the zone's SVI, by its
VRF's route to the core, through every ``ip access-group`` met on the way (first match,
stateless, evaluated by :func:`nornir_tasks.acl_eval.evaluate` on entries parsed from the
text), and routed on by the core in that VRF (connected, static, or leaked by route
target). What gets through is compared with the matrix; for every allowed flow the
stateless reply (TCP ``established``, UDP from the service port, ICMP echo-reply) is
walked back from the destination's side the same way.

**How it scales** (``docs/verify.md``, "How the proof scales", proves the equivalence):
a packet's path from a source's entry interface factors into the entry's own part — its
entry ACL and its VRF's default route to the next device (the core), with the ACLs met
on that hop — and the rest, which depends only on where it was handed over (device and
VRF) and on the destination address. So:

* each entry is read once (a :class:`~.plans.Plan`, linear in sites);
* the rest is walked once per hand-over point and destination (linear in destinations;
  routing walks are memoised);
* sources whose own parts are the same up to the identity of the site (same ACL objects,
  same hand-over point, same address classes) form a *source class*; destinations whose
  rest is the same up to the identity of the site (same ACL objects, same routing
  verdict, same address classes) form a *destination class*; the verdict of one source
  class towards one destination class is computed once (a *block*), and counted for all
  its pairs;
* a destination a source's gateway routes itself (a more specific route than its
  default) is walked for that pair alone;
* a block that is violated is walked pair by pair along one row and one column, which
  finds every finding: a finding's key depends on the source's own part or on the
  destination's rest, never on both, so each finding is reported for every site and
  destination it concerns (see the docs), with the message of the first pair in the
  order the sources and destinations are listed.

The stateless replies factor the same way, with the roles swapped (the destination's
entry is the own part, the walk back to the source the rest).

**The modules**, top down; each imports only modules below it in this list::

    proof     Proof: sources, members, policy points, exclusions; runs the rest
    blocks    source and destination classes; a block's verdict once; pairs one by one
    replies   the stateless replies: per pair, or grouped by classes per block
    pair      one pair's verdict and its findings (matrix, VRF crossings)
    sweep     a violated block's findings by one row and one column
    ledger    findings by key, matrix cells, the context of the pair being evaluated
    plans     members, entries, plans and the walks from them; which side a key is on
    masks     ACL decisions as bit masks over the probes, per address class

What they share is passed to them: the :class:`~.plans.Plans` (memoised reads of the
text), the :class:`~.ledger.Ledger` (findings, cells and the pair being evaluated) and the
``work`` counter; every other cache is kept by the one class that fills it.
"""

from nornir_tasks.verify.zoneproof.proof import Proof

__all__ = ["Proof"]
