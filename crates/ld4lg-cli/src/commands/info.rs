use anyhow::Context;
use ld4lg::backend::DeviceChoice;
use ld4lg::burn::tensor::Tensor;

/// Prints the compiled backends and multiplies two small matrices on `device` as a check.
pub fn run(device: DeviceChoice) -> anyhow::Result<()> {
    println!("ld4lg {}", env!("CARGO_PKG_VERSION"));
    println!("backends:");
    for choice in DeviceChoice::ALL {
        if choice.is_compiled() {
            println!("  {:<8} compiled in", choice.name());
        } else {
            println!(
                "  {:<8} not compiled (feature `{}`)",
                choice.name(),
                choice.feature()
            );
        }
    }
    let handle = device.device()?;
    let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &handle);
    let product: Vec<f32> = a
        .clone()
        .matmul(a)
        .into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("reading the check result")?;
    anyhow::ensure!(
        product == [7.0, 10.0, 15.0, 22.0],
        "device {device} computed a wrong matrix product: {product:?}"
    );
    println!("device {device}: ok");
    Ok(())
}
