//! The assembled catalog: embedded data, user overrides, and forgiving lookups.

use crate::checkpoint::Checkpoint;
use crate::error::{CatalogError, Result};
use crate::gpu::Gpu;
use crate::hf_config;
use crate::instance::{Instance, DEFAULT_REGION};
use crate::managed::{ManagedPrice, SageMakerType, Usage};
use crate::model::ModelSpec;
use crate::names;
use crate::prices::{self, PriceRow};
use crate::table::Table;
use std::collections::BTreeMap;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/hf_configs.rs"));

const GPUS_CSV: &str = include_str!("../../../data/catalog/gpus.csv");
const INSTANCES_CSV: &str = include_str!("../../../data/catalog/aws_instances.csv");
const REGION_PRICES_CSV: &str = include_str!("../../../data/catalog/aws_gpu_prices_by_region.csv");
const MODELS_CSV: &str = include_str!("../../../data/catalog/models.csv");
const ALIASES_CSV: &str = include_str!("../../../data/catalog/aliases.csv");
const CHECKPOINTS_CSV: &str = include_str!("../../../data/models/checkpoints.csv");
const SAGEMAKER_TYPES_CSV: &str =
    include_str!("../../../data/catalog/sagemaker_instance_types.csv");

/// Environment variable naming a directory of catalog overrides.
pub const CATALOG_DIR_ENV: &str = "INFERPLAN_CATALOG_DIR";

/// File names a catalog directory may hold (besides `*.json` model configs).
pub const OVERRIDE_FILES: [&str; 5] = [
    "gpus.csv",
    "instances.csv",
    "models.csv",
    "prices.csv",
    "vms.csv",
];

/// GPUs, instances and models, with aliases.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    gpus: Vec<Gpu>,
    instances: Vec<Instance>,
    models: Vec<ModelSpec>,
    /// Checkpoints of the models, in file order (preferred first).
    checkpoints: Vec<Checkpoint>,
    /// (kind, alias key) -> catalog name.
    aliases: BTreeMap<(String, String), String>,
    /// SageMaker instance types and their EC2 hardware.
    sagemaker_types: Vec<SageMakerType>,
    /// Managed prices (`ml.*` instance-hours), from user price files only.
    managed_prices: Vec<ManagedPrice>,
    notes: Vec<String>,
}

impl Catalog {
    /// The catalog embedded in the binary.
    pub fn embedded() -> Result<Catalog> {
        let mut c = Catalog::default();
        for r in Table::parse(ALIASES_CSV, "data/catalog/aliases.csv")?.rows() {
            let kind = r.req("kind")?.to_owned();
            c.aliases.insert(
                (kind, names::key(r.req("alias")?)),
                r.req("name")?.to_owned(),
            );
        }
        let gpus = Table::parse(GPUS_CSV, "data/catalog/gpus.csv")?;
        for r in gpus.rows() {
            c.upsert_gpu(Gpu::from_row(&r)?);
        }
        let inst = Table::parse(INSTANCES_CSV, "data/catalog/aws_instances.csv")?;
        for r in inst.rows() {
            c.upsert_instance(Instance::from_row(&r)?);
        }
        let snapshot = Table::parse(
            REGION_PRICES_CSV,
            "data/catalog/aws_gpu_prices_by_region.csv",
        )?;
        let rows = prices::read_region_prices(&snapshot)?;
        c.merge_snapshot_prices(rows);
        let models = Table::parse(MODELS_CSV, "data/catalog/models.csv")?;
        for r in models.rows() {
            c.upsert_model(ModelSpec::from_row(&r)?);
        }
        c.add_embedded_configs()?;
        c.add_checkpoints(CHECKPOINTS_CSV, "data/models/checkpoints.csv")?;
        let types = Table::parse(
            SAGEMAKER_TYPES_CSV,
            "data/catalog/sagemaker_instance_types.csv",
        )?;
        for r in types.rows() {
            c.sagemaker_types.push(SageMakerType::from_row(&r)?);
        }
        Ok(c)
    }

    /// The SageMaker instance type (`ml.*`) that runs on the hardware of EC2 type `ec2`, when
    /// SageMaker offers one.
    pub fn sagemaker_type(&self, ec2: &str) -> Option<&SageMakerType> {
        self.sagemaker_types
            .iter()
            .find(|t| t.ec2_instance_type.eq_ignore_ascii_case(ec2))
    }

    /// Every SageMaker instance type the catalog knows.
    pub fn sagemaker_types(&self) -> &[SageMakerType] {
        &self.sagemaker_types
    }

    /// The managed price of `instance_type` (`ml.*`) in `region` for `usage`, when one was
    /// supplied. Never the EC2 price of the same hardware.
    pub fn managed_price(
        &self,
        instance_type: &str,
        region: &str,
        usage: Usage,
    ) -> Option<&ManagedPrice> {
        self.managed_prices.iter().find(|p| {
            p.instance_type.eq_ignore_ascii_case(instance_type)
                && p.region.eq_ignore_ascii_case(region)
                && p.usage == usage
        })
    }

    /// Every managed price supplied.
    pub fn managed_prices(&self) -> &[ManagedPrice] {
        &self.managed_prices
    }

    /// Adds managed prices; a later row for the same type, region and usage replaces an
    /// earlier one. Rows naming an `ml.` type the catalog does not know are kept (SageMaker may
    /// offer types newer than the list) and counted in [`Catalog::notes`].
    pub fn merge_managed_prices(&mut self, rows: Vec<ManagedPrice>) {
        let mut unknown = 0usize;
        for row in rows {
            if !self
                .sagemaker_types
                .iter()
                .any(|t| t.instance_type.eq_ignore_ascii_case(&row.instance_type))
            {
                unknown += 1;
            }
            self.managed_prices.retain(|p| {
                !(p.instance_type.eq_ignore_ascii_case(&row.instance_type)
                    && p.region.eq_ignore_ascii_case(&row.region)
                    && p.usage == row.usage)
            });
            self.managed_prices.push(row);
        }
        if unknown > 0 {
            self.notes.push(format!(
                "{unknown} managed price rows name SageMaker instance types that are not in data/catalog/sagemaker_instance_types.csv; kept, but no candidate runs on them"
            ));
        }
    }

    /// Reads a user price file (`--prices FILE`): EC2 rows and managed (`ml.*`) rows, in the
    /// `prices.csv` format (docs/catalog.md).
    pub fn add_prices_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Io {
            path: path.to_owned(),
            error,
        })?;
        let table = Table::parse(&text, &path.display().to_string())?;
        let (ec2, managed) = prices::read_prices(&table)?;
        self.merge_user_prices(ec2);
        self.merge_managed_prices(managed);
        Ok(())
    }

    /// The embedded catalog, then the overrides of `dir` when given.
    pub fn load(dir: Option<&Path>) -> Result<Catalog> {
        let mut c = Catalog::embedded()?;
        if let Some(d) = dir {
            c.overlay_dir(d)?;
        }
        Ok(c)
    }

    /// Adds the snapshot prices, each region with its own date (the snapshot is undated).
    ///
    /// A dated default-region on-demand price wins over the snapshot's there; the snapshot adds
    /// its spot prices. Every other region keeps the snapshot's prices. Where the snapshot's
    /// default-region on-demand price disagrees with the dated one, the type's price changed
    /// after the snapshot: its other regions are kept but flagged in their `note` (they
    /// probably predate the same change), and a [`Catalog::notes`] line says so.
    fn merge_snapshot_prices(&mut self, rows: Vec<PriceRow>) {
        let mut changed = BTreeMap::new();
        for row in &rows {
            if row.price.region != DEFAULT_REGION {
                continue;
            }
            let Some(inst) = self.instances.iter().find(|i| i.name == row.instance_type) else {
                continue;
            };
            let dated = inst.price(DEFAULT_REGION);
            if let (Some(newer), Some(old)) = (
                dated.and_then(|p| p.on_demand_usd_hr),
                row.price.on_demand_usd_hr,
            ) {
                if (newer - old).abs() > 0.005 * newer {
                    let date = dated.and_then(|p| p.as_of.clone()).unwrap_or_default();
                    changed.insert(row.instance_type.clone(), (newer, old, date));
                }
            }
        }
        let mut flagged: BTreeMap<&str, usize> = BTreeMap::new();
        for mut row in rows {
            let Some(idx) = self.instance_index(&row.instance_type) else {
                continue;
            };
            let inst = &mut self.instances[idx];
            if row.price.region == DEFAULT_REGION && inst.on_demand(DEFAULT_REGION).is_some() {
                row.price.on_demand_usd_hr = None;
            } else if let Some((newer, old, date)) = changed.get(&row.instance_type) {
                if row.price.on_demand_usd_hr.is_some() {
                    row.price.note = format!(
                        "undated snapshot; its {DEFAULT_REGION} price {old} is now {newer} ({date}): this region's price probably changed too"
                    );
                    let key = changed
                        .get_key_value(&row.instance_type)
                        .map(|(k, _)| k.as_str());
                    *flagged.entry(key.unwrap_or_default()).or_default() += 1;
                }
            }
            inst.merge_price(row.price);
        }
        for (t, n) in flagged {
            let (newer, old, date) = &changed[t];
            self.notes.push(format!(
                "{t}: on-demand prices in {n} regions come from an undated snapshot whose {DEFAULT_REGION} price ({old}) predates the current one ({newer}, {date}); kept and flagged (override them in prices.csv)"
            ));
        }
    }

    /// Reads a checkpoints file: every row must name a catalog model.
    fn add_checkpoints(&mut self, text: &str, origin: &str) -> Result<()> {
        let t = Table::parse(text, origin)?;
        t.require(&[
            "model",
            "hf_id",
            "format",
            "chat_template",
            "download_bytes",
            "source",
        ])?;
        for r in t.rows() {
            let name = r.req("model")?;
            let model = self
                .model(name)
                .map_err(|e| r.error("model", e.to_string()))?
                .name
                .clone();
            self.checkpoints.push(Checkpoint::from_row(&r, model)?);
        }
        Ok(())
    }

    fn add_embedded_configs(&mut self) -> Result<()> {
        let sources = Table::parse(HF_SOURCES, "data/models/hf/SOURCES.csv").ok();
        for (file, text) in HF_CONFIGS {
            let meta = sources
                .as_ref()
                .and_then(|t| t.rows().find(|r| r.get("file") == Some(file)));
            let name = meta
                .and_then(|r| r.get("name"))
                .unwrap_or_else(|| file.trim_end_matches(".json"));
            let origin = format!("data/models/hf/{file}");
            match hf_config::parse(text, &origin, name) {
                Ok(mut m) => {
                    if let Some(r) = meta {
                        if let Some(id) = r.get("hf_id") {
                            m.hf_id = Some(id.to_owned());
                        }
                        m.aliases = r
                            .get("aliases")
                            .map(|a| {
                                a.split(';')
                                    .map(|s| s.trim().to_owned())
                                    .filter(|s| !s.is_empty())
                                    .collect()
                            })
                            .unwrap_or_default();
                        m.source = r.get("source").unwrap_or(&origin).to_owned();
                        m.notes = r.get("notes").unwrap_or_default().to_owned();
                    }
                    if self.find_model(&m.name).is_none() {
                        self.models.push(m);
                    }
                }
                Err(e) => self.notes.push(format!("model config not imported: {e}")),
            }
        }
        Ok(())
    }

    /// Applies the override files of `dir` (see [`OVERRIDE_FILES`] and `*.json` model configs).
    pub fn overlay_dir(&mut self, dir: &Path) -> Result<()> {
        let entries = std::fs::read_dir(dir).map_err(|error| CatalogError::Io {
            path: dir.to_owned(),
            error,
        })?;
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for path in files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            if name.ends_with(".json") {
                self.add_model_config(&path)?;
                continue;
            }
            if !name.ends_with(".csv") {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|error| CatalogError::Io {
                path: path.clone(),
                error,
            })?;
            let origin = path.display().to_string();
            let table = Table::parse(&text, &origin)?;
            match name.as_str() {
                "gpus.csv" => {
                    table.require(&["name"])?;
                    for r in table.rows() {
                        self.upsert_gpu(Gpu::from_row(&r)?);
                    }
                }
                "instances.csv" => {
                    table.require(&["instance_type", "gpu_count"])?;
                    for r in table.rows() {
                        let inst = Instance::from_row(&r)?;
                        if let Some(g) = &inst.gpu {
                            if self.find_gpu(g).is_none() {
                                return Err(r.error("gpus_csv_name", format!("GPU `{g}` is not in the catalog")));
                            }
                        }
                        self.upsert_instance(inst);
                    }
                }
                "models.csv" => {
                    for r in table.rows() {
                        self.upsert_model(ModelSpec::from_row(&r)?);
                    }
                }
                "prices.csv" => {
                    let (ec2, managed) = prices::read_prices(&table)?;
                    self.merge_user_prices(ec2);
                    self.merge_managed_prices(managed);
                }
                "vms.csv" => self.merge_user_prices(prices::read_vms_csv(&table)?),
                other => {
                    return Err(CatalogError::invalid(
                        &origin,
                        None,
                        None,
                        format!("unknown catalog file `{other}`; expected one of {} or *.json model configs", OVERRIDE_FILES.join(", ")),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Adds user prices; they win over embedded ones. Types not in the catalog are skipped and
    /// counted in [`Catalog::notes`].
    pub fn merge_user_prices(&mut self, rows: Vec<PriceRow>) {
        let mut unknown = 0usize;
        for row in rows {
            match self.instance_index(&row.instance_type) {
                Some(i) => self.instances[i].merge_price(row.price),
                None => unknown += 1,
            }
        }
        if unknown > 0 {
            self.notes.push(format!(
                "{unknown} price rows name instance types that are not in the catalog; skipped"
            ));
        }
    }

    /// Reads a Hugging Face `config.json` and adds (or replaces) the model it describes.
    pub fn add_model_config(&mut self, path: &Path) -> Result<&ModelSpec> {
        let text = std::fs::read_to_string(path).map_err(|error| CatalogError::Io {
            path: path.to_owned(),
            error,
        })?;
        let origin = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| *s != "config")
            .map(|s| s.replace("--", "/"));
        let probe = hf_config::parse(&text, &origin, "model")?;
        let name = stem
            .or(probe.hf_id.clone())
            .unwrap_or_else(|| origin.clone());
        let mut m = probe;
        m.name = name;
        let idx = self.upsert_model(m);
        Ok(&self.models[idx])
    }

    /// Adds a GPU, or replaces the one of the same name (the planner adds MIG slices this way).
    pub fn upsert_gpu(&mut self, mut g: Gpu) {
        match self.find_gpu(&g.name) {
            Some(i) => {
                // Replacing through an alias keeps the catalog name that instances refer to.
                g.name = std::mem::take(&mut self.gpus[i].name);
                self.gpus[i] = g;
            }
            None => self.gpus.push(g),
        }
    }

    /// Adds an instance type, or replaces the one of the same name keeping prices it lacks.
    pub fn upsert_instance(&mut self, mut inst: Instance) {
        match self.instance_index(&inst.name) {
            Some(i) => {
                for p in std::mem::take(&mut self.instances[i].prices) {
                    if inst.price(&p.region).is_none() {
                        inst.prices.push(p);
                    }
                }
                inst.prices.sort_by(|a, b| a.region.cmp(&b.region));
                self.instances[i] = inst;
            }
            None => self.instances.push(inst),
        }
    }

    fn upsert_model(&mut self, m: ModelSpec) -> usize {
        match self
            .models
            .iter()
            .position(|x| names::key(&x.name) == names::key(&m.name))
        {
            Some(i) => {
                self.models[i] = m;
                i
            }
            None => {
                self.models.push(m);
                self.models.len() - 1
            }
        }
    }

    /// All GPUs, in catalog order.
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }

    /// All instance types, in catalog order.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// All models, in catalog order.
    pub fn models(&self) -> &[ModelSpec] {
        &self.models
    }

    /// The checkpoints of the catalog model `model` (its catalog name), preferred first.
    pub fn checkpoints(&self, model: &str) -> Vec<&Checkpoint> {
        self.checkpoints
            .iter()
            .filter(|c| c.model == model)
            .collect()
    }

    /// Every checkpoint row, in file order.
    pub fn all_checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// What loading noticed: stale prices dropped, configs that could not be imported.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn alias(&self, kind: &str, name: &str) -> Option<&str> {
        self.aliases
            .get(&(kind.to_owned(), names::key(name)))
            .map(String::as_str)
    }

    fn find_gpu(&self, name: &str) -> Option<usize> {
        let k = names::key(name);
        self.gpus
            .iter()
            .position(|g| names::key(&g.name) == k)
            .or_else(|| {
                let target = names::key(self.alias("gpu", name)?);
                self.gpus.iter().position(|g| names::key(&g.name) == target)
            })
    }

    fn instance_index(&self, name: &str) -> Option<usize> {
        let n = name.trim().to_ascii_lowercase();
        self.instances
            .iter()
            .position(|i| i.name.to_ascii_lowercase() == n)
    }

    fn find_model(&self, name: &str) -> Option<usize> {
        let wanted = names::model_keys(name);
        let matches = |m: &ModelSpec| {
            let mut keys = names::model_keys(&m.name);
            if let Some(id) = &m.hf_id {
                keys.extend(names::model_keys(id));
            }
            for a in &m.aliases {
                keys.extend(names::model_keys(a));
            }
            keys.iter().any(|k| wanted.contains(k))
        };
        // Exact key of the display name first, then any key.
        let exact = names::key(name);
        self.models
            .iter()
            .position(|m| names::key(&m.name) == exact)
            .or_else(|| self.models.iter().position(matches))
            .or_else(|| {
                // A model alias matches any key of the name (so `meta-llama/Meta-Llama-3-70B`
                // finds the alias `Llama-3-70B`).
                let target = names::model_keys(name)
                    .into_iter()
                    .find_map(|k| self.aliases.get(&("model".to_owned(), k)))?;
                self.models.iter().position(|m| &m.name == target)
            })
    }

    /// Looks up a GPU by name or alias.
    pub fn gpu(&self, name: &str) -> Result<&Gpu> {
        self.find_gpu(name).map(|i| &self.gpus[i]).ok_or_else(|| {
            let mut cands: BTreeMap<String, String> = self
                .gpus
                .iter()
                .map(|g| (names::key(&g.name), g.name.clone()))
                .collect();
            for ((kind, k), v) in &self.aliases {
                if kind == "gpu" {
                    cands.insert(k.clone(), v.clone());
                }
            }
            unknown("gpu", name, &cands)
        })
    }

    /// Looks up an instance type (case-insensitive).
    pub fn instance(&self, name: &str) -> Result<&Instance> {
        self.instance_index(name)
            .map(|i| &self.instances[i])
            .ok_or_else(|| {
                let cands = self
                    .instances
                    .iter()
                    .map(|i| (names::key(&i.name), i.name.clone()))
                    .collect();
                unknown("instance", name, &cands)
            })
    }

    /// Looks up a model by name, Hugging Face id or alias.
    pub fn model(&self, name: &str) -> Result<&ModelSpec> {
        self.find_model(name)
            .map(|i| &self.models[i])
            .ok_or_else(|| {
                let mut cands = BTreeMap::new();
                for m in &self.models {
                    for k in names::model_keys(&m.name) {
                        cands.insert(k, m.name.clone());
                    }
                    if let Some(id) = &m.hf_id {
                        cands.insert(names::key(id), m.name.clone());
                    }
                }
                unknown("model", name, &cands)
            })
    }

    /// Checks that `name` is a region some instance type has a price in (case-insensitive)
    /// and returns it as the catalog writes it; an unknown region gets suggestions.
    pub fn region(&self, name: &str) -> Result<&str> {
        let regions = self.instances.iter().flat_map(|i| &i.prices);
        if let Some(p) = regions
            .clone()
            .find(|p| p.region.eq_ignore_ascii_case(name.trim()))
        {
            return Ok(&p.region);
        }
        let cands = regions
            .map(|p| (names::key(&p.region), p.region.clone()))
            .collect();
        Err(unknown("region", name, &cands))
    }

    /// The catalog GPU of an instance, when it has one.
    pub fn instance_gpu(&self, inst: &Instance) -> Option<&Gpu> {
        inst.gpu
            .as_deref()
            .and_then(|g| self.find_gpu(g))
            .map(|i| &self.gpus[i])
    }
}

fn unknown(kind: &'static str, name: &str, cands: &BTreeMap<String, String>) -> CatalogError {
    CatalogError::Unknown {
        kind,
        name: name.to_owned(),
        suggestions: names::closest(name, cands),
    }
}
