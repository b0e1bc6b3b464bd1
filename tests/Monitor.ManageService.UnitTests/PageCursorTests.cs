using Monitor.ManageService.Hosts;
using Xunit;

namespace Monitor.ManageService.UnitTests;

public sealed class PageCursorTests
{
    [Theory]
    [InlineData("web-01")]
    [InlineData("主机/x")]
    public void EncodeDecode_RoundTrips(string hostId) => Assert.Equal(hostId, PageCursor.Decode(PageCursor.Encode(hostId), "cursor"));

    [Fact]
    public void Decode_Empty_IsFirstPage() => Assert.Null(PageCursor.Decode("", "cursor"));

    [Theory]
    [InlineData("%%%")]
    [InlineData("aGVsbG8")] // base64url of "hello": no prefix
    public void Decode_Garbage_NamesTheField(string cursor) =>
        Assert.Equal("page_token", Assert.Throws<ManageException>(() => PageCursor.Decode(cursor, "page_token")).Field);
}
