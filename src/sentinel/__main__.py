from sentinel.entry import main

main()
