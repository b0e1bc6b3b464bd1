namespace Monitor.ReportService.Validation;

/// <summary>Machine-readable rejection reasons; also the <c>reason</c> tag of the rejected-samples counter (bounded set).</summary>
internal static class RejectionReasons
{
    public const string HostIdMissing = "host_id_missing";
    public const string HostIdTooLong = "host_id_too_long";
    public const string HostIdInvalid = "host_id_invalid";
    public const string BatchTooLarge = "batch_too_large";
    public const string InvalidMetricName = "invalid_metric_name";
    public const string MetricNameTooLong = "metric_name_too_long";
    public const string NonFiniteValue = "non_finite_value";
    public const string TimestampOutOfRange = "timestamp_out_of_range";
    public const string TooManyLabels = "too_many_labels";
    public const string InvalidLabelKey = "invalid_label_key";
    public const string InvalidLabelValue = "invalid_label_value";
    public const string SeriesLimitExceeded = "series_limit_exceeded";
    public const string MessageTooLong = "message_too_long";
    public const string MalformedBatch = "malformed_batch";
}
