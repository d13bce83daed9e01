def fork_order(i, n):
    left, right = i, (i + 1) % n
    if i == n - 1:  # the last philosopher is left-handed: right fork first
        return right, left
    return left, right  # everybody else: left fork first
