def download(url):
    """A blocking call, like requests.get(url): don't change it."""
    time.sleep(0.1)
    return f"<page {url}>"


async def fetch_all(urls):
    # Each download in a worker thread (to_thread), all of them at once (gather).
    return await asyncio.gather(*(asyncio.to_thread(download, url) for url in urls))
