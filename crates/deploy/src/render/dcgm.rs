//! `dcgm-exporter-counters.csv`: the dcgm-exporter collectors the GPU rules read.
//!
//! dcgm-exporter's default list (`etc/default-counters.csv` in NVIDIA/dcgm-exporter) has the
//! temperature, power, utilisation, framebuffer and XID fields but leaves the ECC counters
//! commented out and has no clock-event reasons; this file adds them. The format is the
//! exporter's: `DCGM field, Prometheus metric type, help message`.

/// The counters file.
pub fn counters_csv() -> String {
    [
        "# Format",
        "# If line starts with a '#' it is considered a comment",
        "# DCGM FIELD, Prometheus metric type, help message",
        "",
        "# Read by the rules of prometheus-rules.yaml (rendered by inferplan).",
        "DCGM_FI_DEV_GPU_TEMP,               gauge,   GPU temperature (in C).",
        "DCGM_FI_DEV_POWER_USAGE,            gauge,   Power draw (in W).",
        "DCGM_FI_DEV_GPU_UTIL,               gauge,   GPU utilization (in %).",
        "DCGM_FI_DEV_FB_FREE,                gauge,   Framebuffer memory free (in MiB).",
        "DCGM_FI_DEV_FB_USED,                gauge,   Framebuffer memory used (in MiB).",
        "DCGM_FI_DEV_XID_ERRORS,             gauge,   Value of the last XID error encountered.",
        "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL,      counter, Total number of double-bit volatile ECC errors.",
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS,   gauge,   Current clock event reasons (bitmask).",
        "",
        "# Useful beside them.",
        "DCGM_FI_DEV_SM_CLOCK,               gauge,   SM clock frequency (in MHz).",
        "DCGM_FI_DEV_MEMORY_TEMP,            gauge,   Memory temperature (in C).",
        "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL,      counter, Total number of single-bit volatile ECC errors.",
        "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS, counter, Number of remapped rows for uncorrectable errors.",
        "DCGM_FI_DEV_ROW_REMAP_FAILURE,      gauge,   Whether remapping of rows has failed.",
        "",
    ]
    .join("\n")
}
