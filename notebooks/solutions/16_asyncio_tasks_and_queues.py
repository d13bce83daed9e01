async def download(url):
    """A pretend network call of 0.1 s: don't change it."""
    await asyncio.sleep(0.1)
    return f"<page {url}>"


async def fetch_all(urls, limit):
    # A semaphore of `limit` turns: each download waits for a turn, and gives it back.
    turns = asyncio.Semaphore(limit)

    async def one(url):
        async with turns:
            return await download(url)

    return await asyncio.gather(*(one(url) for url in urls))
