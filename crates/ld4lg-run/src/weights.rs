//! Weight files: burnpack records written through a temporary file and a rename, loaded
//! with a cast to the module's dtype.

use crate::Error;
use burn::module::{Module, ModuleMapper, Param};
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

/// Loads weights into `module`, casting them to the module's dtype (so half-precision files
/// load into f32 modules).
pub fn load_weights<M: Module>(module: M, path: &Path) -> Result<M, Error> {
    let record = ModuleRecord::load(path)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?
        .cast_to_module_dtype();
    module
        .try_load_record(record)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))
}

/// Saves `module` with its float weights cast to f16.
pub fn save_half<M: Module>(module: &M, path: &Path) -> Result<(), Error> {
    let half = module.clone().map(&mut CastTo(FloatDType::F16));
    save_module(&half, path)
}

/// Saves weights through a temporary file and a rename.
pub fn save_module<M: Module>(module: &M, path: &Path) -> Result<(), Error> {
    let tmp = path.with_extension("bpk.tmp");
    module
        .clone()
        .save_file(&tmp)
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
