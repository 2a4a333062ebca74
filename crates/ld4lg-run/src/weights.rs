//! Weight files: burnpack records written through a temporary file and a rename, recorded in
//! their directory's manifest, and loaded with a checksum check, a check for non-finite
//! values and a cast to the module's dtype.

use crate::Error;
use crate::manifest::{Manifest, verify_or_warn};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::store::ModuleRecord;
use burn::tensor::{FloatDType, Tensor};
use std::path::Path;

/// Casts every float parameter to a dtype.
struct CastTo(FloatDType);

impl ModuleMapper for CastTo {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let dtype = self.0;
        param.map(|t| t.cast(dtype))
    }
}

/// Finds the first float parameter with a NaN or an infinity, by module path.
#[derive(Default)]
struct FirstNonFinite {
    path: Vec<String>,
    found: Option<String>,
}

impl ModuleVisitor for FirstNonFinite {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.found.is_none()
            && param
                .val()
                .is_finite()
                .bool_not()
                .any()
                .into_scalar::<bool>()
        {
            self.found = Some(self.path.join("."));
        }
    }
}

/// Loads weights into `module`, casting them to the module's dtype (so half-precision files
/// load into f32 modules).
///
/// # Errors
/// [`Error::Corrupt`] when the file's checksum differs from its directory's manifest (a
/// directory without a manifest loads with a warning); [`Error::NonFiniteWeights`] when a
/// parameter holds NaN or infinity; [`Error::Checkpoint`] when the file is not a record of
/// this module.
pub fn load_weights<M: Module>(module: M, path: &Path) -> Result<M, Error> {
    verify_or_warn(path)?;
    let record = ModuleRecord::load(path)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?
        .cast_to_module_dtype();
    let module = module
        .try_load_record(record)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    let mut check = FirstNonFinite::default();
    module.visit(&mut check);
    match check.found {
        Some(parameter) => Err(Error::NonFiniteWeights {
            path: path.to_path_buf(),
            parameter,
        }),
        None => Ok(module),
    }
}

/// Saves `module` with its float weights cast to f16.
pub fn save_half<M: Module>(module: &M, path: &Path) -> Result<(), Error> {
    let half = module.clone().map(&mut CastTo(FloatDType::F16));
    save_module(&half, path)
}

/// Saves weights through a temporary file and a rename, and records their checksum in the
/// directory's manifest.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), Error> {
    let tmp = path.with_extension("bpk.tmp");
    module
        .clone()
        .save_file(&tmp)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    sync_file(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    Manifest::record(path)
}

/// Flushes a file to the disk, so that a checkpoint made current after it survives a power
/// loss as well as a killed process.
pub fn sync_file(path: &Path) -> Result<(), Error> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}
