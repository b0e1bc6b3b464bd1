using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monitor.WarningService.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProbeAlerts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EvidenceJson",
                table: "alerts",
                type: "text",
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<string>(
                name: "Target",
                table: "alerts",
                type: "varchar(128)",
                maxLength: 128,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "probe_alert_states",
                columns: table => new
                {
                    RuleId = table.Column<long>(type: "bigint", nullable: false),
                    HostId = table.Column<string>(type: "varchar(128)", maxLength: 128, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    Target = table.Column<string>(type: "varchar(128)", maxLength: 128, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    RuleVersion = table.Column<int>(type: "int", nullable: false),
                    Phase = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    Failures = table.Column<int>(type: "int", nullable: false),
                    FirstFailureMs = table.Column<long>(type: "bigint", nullable: false),
                    LastSampleMs = table.Column<long>(type: "bigint", nullable: false),
                    MessagesJson = table.Column<string>(type: "text", nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    AlertId = table.Column<long>(type: "bigint", nullable: true),
                    Partition = table.Column<int>(type: "int", nullable: false),
                    UpdatedAtMs = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_probe_alert_states", x => new { x.RuleId, x.HostId, x.Target });
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_probe_alert_states_HostId",
                table: "probe_alert_states",
                column: "HostId");

            migrationBuilder.CreateIndex(
                name: "IX_probe_alert_states_Partition",
                table: "probe_alert_states",
                column: "Partition");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "probe_alert_states");

            migrationBuilder.DropColumn(
                name: "EvidenceJson",
                table: "alerts");

            migrationBuilder.DropColumn(
                name: "Target",
                table: "alerts");
        }
    }
}
