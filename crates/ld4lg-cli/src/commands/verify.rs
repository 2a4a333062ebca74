//! `ld4lg verify`: check every weight file of a model or run directory against its manifest.

use clap::Args;
use ld4lg::run::{MANIFEST_FILE, Manifest, WEIGHT_EXTENSION, weight_directories};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Model or run directory (searched recursively for weight files).
    dir: PathBuf,
    /// Write a manifest into every directory of weights that has none (directories written
    /// before manifests existed). Existing manifests are never rewritten: that would hide
    /// the damage they exist to find.
    #[arg(long)]
    seal: bool,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let dirs = weight_directories(&args.dir)?;
    anyhow::ensure!(
        !dirs.is_empty(),
        "{} holds no weight files (*.{WEIGHT_EXTENSION})",
        args.dir.display()
    );
    let (mut verified, mut unverified) = (0, 0);
    for dir in dirs {
        if Manifest::load(&dir)?.is_none() {
            if args.seal {
                let manifest = Manifest::seal(&dir, &[WEIGHT_EXTENSION])?;
                println!(
                    "sealed   {} ({} files)",
                    dir.display(),
                    manifest.files.len()
                );
                verified += manifest.files.len();
            } else {
                println!("no {MANIFEST_FILE} in {}", dir.display());
                unverified += 1;
            }
            continue;
        }
        let files = Manifest::verify_dir(&dir)?;
        println!("verified {} ({files} files)", dir.display());
        verified += files;
    }
    if unverified > 0 {
        println!(
            "{verified} files verified; {unverified} directories have no manifest (`--seal` writes one)"
        );
    } else {
        println!("{verified} files verified");
    }
    Ok(())
}
