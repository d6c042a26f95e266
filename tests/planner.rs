//! The planner's inputs, shared by the test binaries that run the planner (plan's and
//! deploy's). They include it beside `support.rs` with `#[path = …] mod planner;`.

use inferplan_perf::efficiency::EfficiencyTable;
use inferplan_perf::MemoryParams;
use inferplan_plan::Inputs;
use std::sync::OnceLock;

/// The planner's embedded inputs: catalog, efficiency table and memory parameters, loaded once.
pub fn inputs() -> Inputs<'static> {
    static EFFICIENCY: OnceLock<EfficiencyTable> = OnceLock::new();
    static MEMORY: OnceLock<MemoryParams> = OnceLock::new();
    Inputs {
        catalog: crate::support::catalog(),
        efficiency: EFFICIENCY.get_or_init(|| EfficiencyTable::embedded().unwrap()),
        memory: MEMORY.get_or_init(|| MemoryParams::embedded().unwrap()),
    }
}
