//! SageMaker's limits and metric names: defined once in `inferplan_serving::sagemaker::limits`
//! (the planner checks its SageMaker candidates against the same numbers), re-exported here
//! for the renderer and the linter.

pub use inferplan_serving::sagemaker::limits::*;
