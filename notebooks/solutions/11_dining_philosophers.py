def fork_order(i, n):
    left, right = i, (i + 1) % n
    if i == 0:  # philosopher 0 is left-handed: right fork first
        return right, left
    return left, right  # everybody else: left fork first
