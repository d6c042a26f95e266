//! The nodes' side of the event loop, as Karpenter runs it: a new replica goes to a node with
//! room (running first, then starting), else waits for a new node; a node left empty is
//! removed after `consolidateAfter`; node-hours are counted for the cost.

use super::sim::Sim;
use super::state::{us, Ev, Node};

impl Sim<'_> {
    /// Places a new replica on a node and returns the node and when it can start the pod
    /// (µs). A `warm` replica (there at the start) finds its node running.
    pub(super) fn place(&mut self, warm: bool) -> Option<(usize, u64)> {
        let n = self.cfg.nodes?;
        let per_node = if n.nodes_per_replica > 1 {
            1
        } else {
            n.replicas_per_node.max(1)
        };
        let now = self.now;
        // Room on a running node first, then on the one that will run soonest.
        let found = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].alive && self.nodes[i].replicas < per_node)
            .min_by_key(|&i| (self.nodes[i].ready_us.max(now), i));
        let i = match found {
            Some(i) => i,
            None => {
                self.account_cost();
                let start = if warm { 0 } else { us(n.start_s) };
                if !warm {
                    self.tally.nodes_started += 1;
                }
                self.nodes.push(Node {
                    ready_us: now + start,
                    replicas: 0,
                    alive: true,
                    epoch: 0,
                });
                self.nodes_alive += 1;
                self.tally.nodes_max = self.tally.nodes_max.max(self.nodes_alive);
                self.nodes.len() - 1
            }
        };
        let node = &mut self.nodes[i];
        node.replicas += 1;
        node.epoch += 1;
        Some((i, node.ready_us.max(now)))
    }

    /// A replica left node `i`: when the node is empty, Karpenter may remove it after
    /// `consolidateAfter` (counted from when it is running and empty); a node `lost` to a
    /// spot interruption goes at once.
    pub(super) fn vacate(&mut self, i: usize, lost: bool) {
        let Some(n) = self.cfg.nodes else { return };
        let now = self.now;
        let node = &mut self.nodes[i];
        node.replicas = node.replicas.saturating_sub(1);
        node.epoch += 1;
        if node.replicas > 0 {
            return;
        }
        if lost {
            self.remove_node(i);
            return;
        }
        let at = node
            .ready_us
            .max(now)
            .saturating_add(us(n.consolidate_after_s));
        let epoch = node.epoch;
        self.push(at, Ev::Consolidate(i, epoch));
    }

    /// Karpenter's consolidation of node `i`, if it is still empty since `epoch`.
    pub(super) fn on_consolidate(&mut self, i: usize, epoch: u32) {
        let node = &self.nodes[i];
        if node.alive && node.replicas == 0 && node.epoch == epoch {
            self.remove_node(i);
        }
    }

    fn remove_node(&mut self, i: usize) {
        if !self.nodes[i].alive {
            return;
        }
        self.account_cost();
        self.nodes[i].alive = false;
        self.nodes_alive -= 1;
    }
}
