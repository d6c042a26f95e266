//! The inferplan catalog: GPUs, cloud instances with prices, and open models.
//!
//! The catalog is embedded in the binary (`data/` at the repository root) and can be extended
//! or overridden from a directory of user files (see [`Catalog::load`]). Every row keeps its
//! source. Names are matched forgivingly: case-insensitive, with aliases, and an unknown name
//! gets an error listing the closest matches.

pub mod bounds;
pub mod catalog;
pub mod checkpoint;
pub mod csv_writer;
pub mod dtype;
pub mod error;
pub mod gpu;
pub mod hf_config;
pub mod instance;
pub mod managed;
pub mod model;
pub mod names;
pub mod prices;
pub mod stats;
pub mod table;

pub use catalog::Catalog;
pub use checkpoint::{ChatTemplate, Checkpoint};
pub use dtype::Dtype;
pub use error::{CatalogError, Result};
pub use gpu::{Arch, Gpu, Support};
pub use instance::{Instance, Interconnect, RegionPrice, DEFAULT_REGION};
pub use managed::{ManagedPrice, SageMakerType, Usage};
pub use model::{Mla, ModelSpec, Moe, ParamCounts, Window};
