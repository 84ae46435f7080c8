using Failmail.Batching;

namespace Failmail.Tests.Batching;

public class NewestMessagesTests
{
    private static readonly byte[] Small = new byte[100];

    [Fact]
    public void TakeGivesTheNewestMessageOfItsGroupOnce()
    {
        var newest = new NewestMessages();
        var first = new byte[10];
        newest.Add("b", "ops@example.com", "disk", "1", first);
        newest.Add("b", "ops@example.com", "disk", "2", Small);
        Assert.Null(newest.Take("b", "ops@example.com", "disk", "1")); // no longer the newest
        Assert.Same(Small, newest.Take("b", "ops@example.com", "disk", "2"));
        Assert.Null(newest.Take("b", "ops@example.com", "disk", "2"));
        Assert.Equal(0, newest.Count);
        Assert.Equal(0, newest.Bytes);
    }

    [Fact]
    public void GroupsAreKeptApartByBatchKeyRecipientAndGroupKey()
    {
        var newest = new NewestMessages();
        newest.Add("b", "ops@example.com", "disk", "1", Small);
        newest.Add("c", "ops@example.com", "disk", "2", Small);
        newest.Add("b", "dev@example.com", "disk", "3", Small);
        newest.Add("b", "ops@example.com", "cpu", "4", Small);
        Assert.Equal(4, newest.Count);
        Assert.Equal(400, newest.Bytes);
        Assert.NotNull(newest.Take("b", "dev@example.com", "disk", "3"));
        Assert.Null(newest.Take("b", "ops@example.com", "disk", "3"));
        Assert.NotNull(newest.Take("b", "ops@example.com", "disk", "1"));
    }

    // A closed (full) batch whose group entry was replaced by the next batch's message: the
    // closed batch's digest gets nothing (it reads the store), the open one keeps its entry.
    [Fact]
    public void EntryOfALaterBatchIsNotTakenForAnEarlierOne()
    {
        var newest = new NewestMessages();
        newest.Add("b", "ops@example.com", "disk", "1000", Small);
        newest.Add("b", "ops@example.com", "disk", "1001", Small);
        Assert.Null(newest.Take("b", "ops@example.com", "disk", "1000"));
        Assert.Equal(1, newest.Count);
        Assert.NotNull(newest.Take("b", "ops@example.com", "disk", "1001"));
    }

    [Fact]
    public void LargeMessagesAndMessagesOverTheBudgetAreNotKept()
    {
        var newest = new NewestMessages(budgetBytes: 250);
        newest.Add("b", "r", "big", "1", new byte[NewestMessages.MaxMessageBytes + 1]);
        Assert.Equal(0, newest.Count);
        newest.Add("b", "r", "g1", "2", Small);
        newest.Add("b", "r", "g2", "3", Small);
        newest.Add("b", "r", "g3", "4", Small); // would be 300 bytes
        Assert.Equal(2, newest.Count);
        Assert.Null(newest.Take("b", "r", "g3", "4"));
        // Replacing an entry frees its bytes first.
        newest.Add("b", "r", "g1", "5", new byte[150]);
        Assert.Equal(250, newest.Bytes);
        Assert.Null(newest.Take("b", "r", "g1", "2"));
        Assert.NotNull(newest.Take("b", "r", "g1", "5"));
        // A message that is not kept still drops the entry it replaces.
        newest.Add("b", "r", "g2", "6", new byte[NewestMessages.MaxMessageBytes + 1]);
        Assert.Equal(0, newest.Count);
        Assert.Equal(0, newest.Bytes);
    }
}
