AT_ONCE = 8  # downloads at a time: what one server should get, not how many pages there are


def download_all(address, pages):
    # Download the pages in a pool of threads; return the replies in the order of `pages`.
    # A pool is sized by what its threads wait for (here a server) or, for work that
    # computes, by the usable cores: 600 pages would still mean 8 requests at a time.
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        futures = [pool.submit(download, address, page) for page in pages]  # all queued at once
        return [future.result(timeout=10) for future in futures]  # each waits for its reply
