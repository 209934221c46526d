from paragraphs.cli import main

main()
