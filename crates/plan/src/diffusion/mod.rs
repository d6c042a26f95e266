//! Planning image and video generation (issue 7): a diffusion workload (model, job, jobs per
//! day, latency promise, managed price) answered with the instance, the warm pool, the
//! queueing delay at the peak, the cost per image or clip and the break-even volume against
//! a managed service. `docs/diffusion.md` explains the model.

mod queue;
mod search;
mod workload;

pub use queue::{erlang_c, mean_wait, servers_for, wait_quantile};
pub use search::{
    plan_diffusion, BreakEven, DiffusionCandidate, DiffusionPlan, BREAK_EVEN_MAX_JOBS_PER_DAY,
    MAX_POOL_GPUS,
};
pub use workload::{
    diffusion_sign, is_diffusion, DiffusionModelIn, DiffusionWorkload, JobSlo, JobTraffic, Managed,
};
