def download_all(address, pages):
    # Download every page in a pool of threads; return the replies in the order of `pages`.
    with ThreadPoolExecutor(max_workers=len(pages)) as pool:
        futures = [pool.submit(download, address, page) for page in pages]  # all start at once
        return [future.result(timeout=10) for future in futures]  # each waits for its reply
