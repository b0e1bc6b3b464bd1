using System.Globalization;
using System.Text.Json;

namespace Monitor.Influx;

/// <summary>The parsed answer of an InfluxQL query: one <see cref="InfluxStatementResult"/> per statement.</summary>
public sealed class InfluxQueryResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="statements">The results of the statements, in the order they were sent.</param>
    public InfluxQueryResult(IReadOnlyList<InfluxStatementResult> statements)
    {
        ArgumentNullException.ThrowIfNull(statements);
        Statements = statements;
        Series = statements.Count == 1 ? statements[0].Series : [.. statements.SelectMany(s => s.Series)];
    }

    /// <summary>Gets the results of the statements, in the order they were sent.</summary>
    public IReadOnlyList<InfluxStatementResult> Statements { get; }

    /// <summary>Gets the series of all statements, in order; for a single statement, its series.</summary>
    public IReadOnlyList<InfluxSeries> Series { get; }
}

/// <summary>The result of one InfluxQL statement.</summary>
/// <param name="StatementId">The statement's position in the query, from 0.</param>
/// <param name="Series">The series it returned; empty when nothing matched.</param>
public sealed record InfluxStatementResult(int StatementId, IReadOnlyList<InfluxSeries> Series);

/// <summary>One series of a query result: a measurement (or a <c>SHOW</c> listing) with its tag set and rows.</summary>
/// <param name="Name">The measurement or listing name (<c>cpu_rate</c>, <c>measurements</c>); empty if none was returned.</param>
/// <param name="Tags">The <c>GROUP BY</c> tags of this series; empty when the query was not grouped by tags.</param>
/// <param name="Columns">The column names; with <c>epoch=ms</c> the <c>time</c> column holds Unix milliseconds.</param>
/// <param name="Values">The rows; each row has one value per column, <see langword="null"/> for a JSON null.</param>
public sealed record InfluxSeries(
    string Name,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<JsonElement?>> Values)
{
    /// <summary>Gets the number of rows.</summary>
    public int RowCount => Values.Count;

    /// <summary>Finds a column by name (ordinal, case-sensitive).</summary>
    /// <param name="column">The column name.</param>
    /// <returns>The column's index, or -1 if the series has no such column.</returns>
    public int GetColumnIndex(string column)
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (string.Equals(Columns[i], column, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Gets a cell by column name.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="column">The column name.</param>
    /// <returns>The cell, or <see langword="null"/> for a JSON null.</returns>
    /// <exception cref="ArgumentException">The series has no such column.</exception>
    public JsonElement? GetValue(int row, string column) => GetValue(row, RequireColumn(column));

    /// <summary>Gets a cell by column index.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="column">The column index.</param>
    /// <returns>The cell, or <see langword="null"/> for a JSON null or a row shorter than the columns.</returns>
    public JsonElement? GetValue(int row, int column)
    {
        var values = Values[row];
        return column < values.Count ? values[column] : null;
    }

    /// <summary>Reads a numeric cell as a double.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="column">The column name.</param>
    /// <returns>The number, or <see langword="null"/> for a null cell.</returns>
    /// <exception cref="ArgumentException">The series has no such column.</exception>
    /// <exception cref="FormatException">The cell is not a number.</exception>
    public double? GetDouble(int row, string column) => GetDouble(row, RequireColumn(column));

    /// <inheritdoc cref="GetDouble(int, string)"/>
    public double? GetDouble(int row, int column)
    {
        var cell = GetValue(row, column);
        if (cell is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw NotA("number", row, column, value);
    }

    /// <summary>Reads an integral cell (such as <c>time</c> with <c>epoch=ms</c>, or a <c>count</c>) as a long.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="column">The column name.</param>
    /// <returns>The integer, or <see langword="null"/> for a null cell.</returns>
    /// <exception cref="ArgumentException">The series has no such column.</exception>
    /// <exception cref="FormatException">The cell is not an integral number.</exception>
    public long? GetInt64(int row, string column) => GetInt64(row, RequireColumn(column));

    /// <inheritdoc cref="GetInt64(int, string)"/>
    public long? GetInt64(int row, int column)
    {
        var cell = GetValue(row, column);
        if (cell is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetInt64(out var integer))
            {
                return integer;
            }

            // A whole number may come back in float notation (4.0, 1e3); accept it when it is exact.
            const double TwoPow63 = 9_223_372_036_854_775_808d;
            var number = value.GetDouble();
            if (Math.Floor(number) == number && number >= -TwoPow63 && number < TwoPow63)
            {
                return (long)number;
            }
        }

        throw NotA("integer", row, column, value);
    }

    /// <summary>Reads a cell as text: strings as they are, numbers and booleans as their JSON text.</summary>
    /// <param name="row">The row index.</param>
    /// <param name="column">The column name.</param>
    /// <returns>The text, or <see langword="null"/> for a null cell.</returns>
    /// <exception cref="ArgumentException">The series has no such column.</exception>
    public string? GetString(int row, string column) => GetString(row, RequireColumn(column));

    /// <inheritdoc cref="GetString(int, string)"/>
    public string? GetString(int row, int column) => GetValue(row, column) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        { } value => value.GetRawText(),
    };

    private int RequireColumn(string column)
    {
        var index = GetColumnIndex(column);
        return index >= 0
            ? index
            : throw new ArgumentException(
                $"Series '{Name}' has no column '{column}' (columns: {string.Join(", ", Columns)}).", nameof(column));
    }

    private FormatException NotA(string expected, int row, int column, JsonElement value) =>
        new(string.Create(
            CultureInfo.InvariantCulture,
            $"Series '{Name}' row {row} column '{Columns[column]}' holds {value.ValueKind} {value.GetRawText()}, not a {expected}."));
}
